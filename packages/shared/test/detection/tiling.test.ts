import { squareTiles, type Tile, touchesSeam } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

/** Every column (or row) of the long side lies in some tile, and every tile lies in the frame. */
function expectCovers(tiles: readonly Tile[], width: number, height: number): void {
  const wide = width >= height;
  const long = wide ? width : height;
  for (let p = 0; p < long; p++) {
    const covered = tiles.some((t) => {
      const start = wide ? t.left : t.top;
      return p >= start && p < start + t.size;
    });
    expect(covered, `pixel ${p}`).toBe(true);
  }
  for (const t of tiles) {
    expect(t.left).toBeGreaterThanOrEqual(0);
    expect(t.top).toBeGreaterThanOrEqual(0);
    expect(t.left + t.size).toBeLessThanOrEqual(width);
    expect(t.top + t.size).toBeLessThanOrEqual(height);
    expect(Number.isInteger(t.left) && Number.isInteger(t.top)).toBe(true);
  }
}

describe('squareTiles', () => {
  it('cuts a 1242×375 KITTI frame into 4 overlapping 375 px squares', () => {
    const tiles = squareTiles(1242, 375);
    expect(tiles.map((t) => t.left)).toEqual([0, 289, 578, 867]);
    expect(tiles.every((t) => t.size === 375 && t.top === 0)).toBe(true);
    expectCovers(tiles, 1242, 375);
    for (let i = 1; i < tiles.length; i++) {
      const overlap = tiles[i - 1]!.left + 375 - tiles[i]!.left;
      expect(overlap).toBeGreaterThanOrEqual(0.2 * 375);
    }
  });

  it('adds tiles as the requested overlap grows', () => {
    const none = squareTiles(1242, 375, { overlap: 0 });
    expect(none).toHaveLength(4); // ceil(1242 / 375)
    expectCovers(none, 1242, 375);
    const half = squareTiles(1242, 375, { overlap: 0.5 });
    expect(half).toHaveLength(6);
    expectCovers(half, 1242, 375);
    for (let i = 1; i < half.length; i++)
      expect(half[i]!.left - half[i - 1]!.left).toBeLessThanOrEqual(187.5);
  });

  it('tiles a tall frame top to bottom', () => {
    const tiles = squareTiles(375, 1242);
    expect(tiles.map((t) => t.top)).toEqual([0, 289, 578, 867]);
    expect(tiles.every((t) => t.left === 0 && t.size === 375)).toBe(true);
    expectCovers(tiles, 375, 1242);
  });

  it('gives one tile, the letterbox square, for square and 4:3 frames', () => {
    expect(squareTiles(416, 416)).toEqual([{ left: 0, top: 0, size: 416 }]);
    expect(squareTiles(640, 480)).toEqual([{ left: 0, top: 0, size: 640 }]);
    expect(squareTiles(480, 640)).toEqual([{ left: 0, top: 0, size: 640 }]);
    // 3:2 is wide enough to tile.
    expect(squareTiles(640, 426)).toEqual([
      { left: 0, top: 0, size: 426 },
      { left: 214, top: 0, size: 426 },
    ]);
  });

  it('rejects bad sizes and overlaps', () => {
    expect(() => squareTiles(0, 10)).toThrow(RangeError);
    expect(() => squareTiles(100, 10, { overlap: 1 })).toThrow(RangeError);
  });
});

describe('touchesSeam', () => {
  const frame = { width: 1242, height: 375 };
  const middle: Tile = { left: 289, top: 0, size: 375 }; // seams at x = 289 and x = 664

  it('flags boxes running into a side of the tile that lies inside the frame', () => {
    expect(touchesSeam([289, 100, 350, 200], middle, frame)).toBe(true);
    expect(touchesSeam([600, 100, 664, 200], middle, frame)).toBe(true);
    expect(touchesSeam([292, 100, 350, 200], middle, frame)).toBe(true); // within 1 % of the side (3.75 px)
    expect(touchesSeam([294, 100, 350, 200], middle, frame)).toBe(false);
    expect(touchesSeam([300, 100, 650, 200], middle, frame)).toBe(false);
  });

  it('ignores tile sides on the frame border', () => {
    // Top and bottom of a full-height tile, and the outer sides of the end tiles, are frame edges.
    expect(touchesSeam([300, 0, 400, 375], middle, frame)).toBe(false);
    expect(touchesSeam([0, 100, 100, 200], { left: 0, top: 0, size: 375 }, frame)).toBe(false);
    expect(touchesSeam([1142, 100, 1242, 200], { left: 867, top: 0, size: 375 }, frame)).toBe(false);
    expect(touchesSeam([867, 100, 1000, 200], { left: 867, top: 0, size: 375 }, frame)).toBe(true);
  });
});
