/**
 * Small greyscale thumbnails and the changed-pixel share between two of them: the measure behind
 * the scene gate (Reducto's "pixel" feature, SIGCOMM'20 §4, computed on a NoScope-style
 * thumbnail, VLDB'17 §5). Pure functions over interleaved RGB.
 */

/** A greyscale thumbnail, row-major, one float per pixel in 0..255. */
export interface Thumbnail {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

export interface ThumbnailOptions {
  /** Thumbnail width in pixels; the height keeps the frame's aspect ratio. Default 64. */
  width?: number;
  /** Apply a 3×3 binomial blur (1-2-1 in each direction), so sensor noise and codec ringing do not count. Default true. */
  blur?: boolean;
}

/**
 * Area-averaged greyscale thumbnail of an interleaved RGB frame: every source pixel falls into
 * exactly one thumbnail cell and each cell is the mean luma (BT.601 weights) of its pixels.
 */
export function thumbnail(
  frame: { pixels: Buffer | Uint8Array; width: number; height: number },
  options: ThumbnailOptions = {},
): Thumbnail {
  const { pixels, width, height } = frame;
  if (width <= 0 || height <= 0 || pixels.length < width * height * 3) {
    throw new RangeError(
      `frame ${width}x${height} needs ${width * height * 3} RGB bytes, has ${pixels.length}`,
    );
  }
  const tw = Math.max(1, Math.min(width, Math.round(options.width ?? 64)));
  const th = Math.max(1, Math.min(height, Math.round((tw * height) / width)));
  const sums = new Float64Array(tw * th);
  const counts = new Uint32Array(tw * th);
  const columnCell = new Uint32Array(width);
  for (let x = 0; x < width; x++) columnCell[x] = Math.floor((x * tw) / width);
  for (let y = 0; y < height; y++) {
    const rowCell = Math.floor((y * th) / height) * tw;
    let p = y * width * 3;
    for (let x = 0; x < width; x++, p += 3) {
      const cell = rowCell + columnCell[x]!;
      // Integer BT.601 luma: (77 R + 150 G + 29 B) / 256.
      sums[cell]! += (77 * pixels[p]! + 150 * pixels[p + 1]! + 29 * pixels[p + 2]!) / 256;
      counts[cell]! += 1;
    }
  }
  const data = new Float32Array(tw * th);
  for (let i = 0; i < data.length; i++) data[i] = sums[i]! / counts[i]!;
  return { data: options.blur === false ? data : blur3(data, tw, th), width: tw, height: th };
}

/** 3×3 binomial blur with clamped edges. */
function blur3(src: Float32Array, w: number, h: number): Float32Array {
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const l = src[row + Math.max(0, x - 1)]!;
      const r = src[row + Math.min(w - 1, x + 1)]!;
      tmp[row + x] = (l + 2 * src[row + x]! + r) / 4;
    }
  }
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const up = Math.max(0, y - 1) * w;
    const down = Math.min(h - 1, y + 1) * w;
    const row = y * w;
    for (let x = 0; x < w; x++) out[row + x] = (tmp[up + x]! + 2 * tmp[row + x]! + tmp[down + x]!) / 4;
  }
  return out;
}

/**
 * Share (0..1) of thumbnail pixels whose grey level differs by more than `level` between `a` and
 * `b`. The thumbnails must have the same size.
 */
export function changedShare(a: Thumbnail, b: Thumbnail, level: number): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`thumbnails differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let changed = 0;
  for (let i = 0; i < a.data.length; i++) if (Math.abs(a.data[i]! - b.data[i]!) > level) changed++;
  return changed / a.data.length;
}
