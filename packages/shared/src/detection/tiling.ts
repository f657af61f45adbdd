/** A square region of a frame, in the frame's pixels. */
export interface Tile {
  left: number;
  top: number;
  size: number;
}

/**
 * Frames up to this aspect ratio are run whole: tiling would cost passes for little gain. 4:3
 * (1.333, and sizes a pixel or two off it) still counts as one tile.
 */
const MAX_SINGLE_ASPECT = 1.34;

/**
 * Overlapping squares of side min(w, h) that together cover a wide (or tall) frame, spread
 * evenly from one end to the other with adjacent tiles overlapping by at least `overlap` of the
 * side (default 0.2). A frame whose aspect ratio is at most 1.34 (4:3) gets one tile, `{0, 0, max(w, h)}`:
 * the square that letterboxing the whole frame would fill.
 *
 * A 1242×375 KITTI frame gives 4 tiles of 375 px, 289 px apart (86 px of overlap).
 */
export function squareTiles(width: number, height: number, options: { overlap?: number } = {}): Tile[] {
  const { overlap = 0.2 } = options;
  if (!(width > 0 && height > 0)) throw new RangeError(`bad frame size ${width}×${height}`);
  if (!(overlap >= 0 && overlap < 1)) throw new RangeError(`overlap must be in [0, 1), got ${overlap}`);
  const side = Math.min(width, height);
  const long = Math.max(width, height);
  if (long / side <= MAX_SINGLE_ASPECT) return [{ left: 0, top: 0, size: long }];
  const maxStep = side * (1 - overlap);
  const count = Math.ceil((long - side) / maxStep) + 1;
  const step = (long - side) / (count - 1);
  const tiles: Tile[] = [];
  for (let i = 0; i < count; i++) {
    // The last tile ends exactly at the far edge; rounding keeps every tile on whole pixels.
    const start = Math.round(i * step);
    tiles.push(width >= height ? { left: start, top: 0, size: side } : { left: 0, top: start, size: side });
  }
  return tiles;
}

/**
 * Whether a box found in `tile` runs into one of the tile's sides that lies inside the frame (a
 * seam), within `margin` pixels. Such a box is most likely a cut-off object: the neighbouring
 * tile or the whole-frame pass sees it whole, so tiled detection drops it before merging.
 */
export function touchesSeam(
  box: readonly [number, number, number, number],
  tile: Tile,
  frame: { width: number; height: number },
  margin = Math.max(2, tile.size * 0.01),
): boolean {
  const right = tile.left + tile.size;
  const bottom = tile.top + tile.size;
  return (
    (tile.left > 0 && box[0] - tile.left <= margin) ||
    (tile.top > 0 && box[1] - tile.top <= margin) ||
    (right < frame.width && right - box[2] <= margin) ||
    (bottom < frame.height && bottom - box[3] <= margin)
  );
}
