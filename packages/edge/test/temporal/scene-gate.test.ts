import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { describe, expect, it } from 'vitest';
import { createSceneGate, type GateFrame } from '../../src/temporal/scene-gate.ts';
import { changedShare, thumbnail } from '../../src/temporal/thumbnail.ts';

const W = 320;
const H = 180;

/** A grey frame with deterministic ±`noise` per pixel and optional filled rectangles. */
function frame(
  seq: number,
  opts: {
    base?: number;
    noise?: number;
    rects?: { x: number; y: number; w: number; h: number; v: number }[];
  } = {},
): GateFrame {
  const { base = 100, noise = 0, rects = [] } = opts;
  const pixels = Buffer.alloc(W * H * 3);
  let state = (seq + 1) * 2654435761;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      state = (state * 1103515245 + 12345) >>> 0;
      let v = base + (noise ? ((state >>> 8) % (2 * noise + 1)) - noise : 0);
      for (const r of rects) if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h) v = r.v;
      const p = (y * W + x) * 3;
      pixels[p] = pixels[p + 1] = pixels[p + 2] = Math.max(0, Math.min(255, v));
    }
  }
  return { seq, atMs: seq * 200, pixels, width: W, height: H };
}

describe('thumbnail', () => {
  it('area-averages to 64 px wide, keeping the aspect ratio, luma of RGB', () => {
    const pixels = Buffer.alloc(W * H * 3);
    for (let i = 0; i < W * H; i++) pixels.set([255, 0, 0], i * 3); // pure red
    const t = thumbnail({ pixels, width: W, height: H }, { blur: false });
    expect([t.width, t.height]).toEqual([64, 36]);
    // BT.601: 0.299 × 255 ≈ 76.
    expect(t.data[0]).toBeCloseTo((77 * 255) / 256, 3);
  });

  it('counts the changed share after the blur, so single-pixel noise does not count', () => {
    const a = thumbnail(frame(0, { noise: 20 }));
    const b = thumbnail(frame(1, { noise: 20 }));
    expect(changedShare(a, b, 12)).toBe(0);
    const c = thumbnail(frame(2, { rects: [{ x: 0, y: 0, w: 160, h: 180, v: 200 }] }));
    expect(changedShare(a, c, 12)).toBeGreaterThan(0.45);
    expect(changedShare(a, c, 12)).toBeLessThan(0.55);
  });

  it('rejects a buffer too small for its size', () => {
    expect(() => thumbnail({ pixels: Buffer.alloc(10), width: W, height: H })).toThrow(RangeError);
  });
});

describe('scene gate (synthetic frames)', () => {
  it('sends the first frame, reuses a noisy still scene, and sends a frame where an object appears', () => {
    const gate = createSceneGate();
    expect(gate.check(frame(0, { noise: 15 }))).toEqual({ kind: 'changed', score: 1, reason: 'first' });
    for (let i = 1; i < 5; i++) {
      expect(gate.check(frame(i, { noise: 15 }))).toMatchObject({ kind: 'unchanged', since: 0 });
    }
    const car = gate.check(frame(5, { noise: 15, rects: [{ x: 100, y: 60, w: 40, h: 24, v: 220 }] }));
    expect(car).toMatchObject({ kind: 'changed', reason: 'scene' });
    expect(gate.reference).toEqual({ seq: 5, atMs: 1000 });
    expect(
      gate.check(frame(6, { noise: 15, rects: [{ x: 100, y: 60, w: 40, h: 24, v: 220 }] })),
    ).toMatchObject({
      kind: 'unchanged',
      since: 5,
    });
  });

  it('compares with the last frame that went through the model, so a slow drift adds up', () => {
    const gate = createSceneGate({ maxSkip: 1000, maxAgeMs: 1e9 });
    gate.check(frame(0));
    // The scene brightens by 4 levels a frame: never 16 between two consecutive frames.
    const decisions = [];
    for (let i = 1; i <= 10; i++) decisions.push(gate.check(frame(i, { base: 100 + 4 * i })));
    const first = decisions.findIndex((d) => d.kind === 'changed');
    expect(first).toBe(4); // frame 5: 20 levels above frame 0
    expect(decisions.slice(0, 4).every((d) => d.kind === 'unchanged' && d.since === 0)).toBe(true);
  });

  it('forces a model run after maxSkip reused frames and when the reference is maxAgeMs old', () => {
    const skips = createSceneGate({ maxSkip: 3, maxAgeMs: 1e9 });
    const kinds = Array.from({ length: 9 }, (_, i) => skips.check(frame(i)));
    expect(kinds.map((d) => (d.kind === 'changed' ? d.reason : '-'))).toEqual([
      'first',
      '-',
      '-',
      '-',
      'max-skip',
      '-',
      '-',
      '-',
      'max-skip',
    ]);
    const aged = createSceneGate({ maxSkip: 1000, maxAgeMs: 1000 });
    const reasons = Array.from({ length: 8 }, (_, i) => aged.check(frame(i))).map((d) =>
      d.kind === 'changed' ? d.reason : '-',
    );
    // 200 ms a frame: frame 5 is 1000 ms after frame 0.
    expect(reasons).toEqual(['first', '-', '-', '-', '-', 'max-age', '-', '-']);
    expect(aged.counts).toEqual({
      checked: 8,
      unchanged: 6,
      changed: { first: 1, scene: 0, 'max-skip': 0, 'max-age': 1, resized: 0 },
    });
  });

  it('treats a new frame shape as changed and forgets its reference on reset()', () => {
    const gate = createSceneGate();
    gate.check(frame(0));
    // Same aspect ratio, same thumbnail: still comparable. Another shape is not.
    const same = { seq: 1, atMs: 200, pixels: Buffer.alloc(160 * 90 * 3, 100), width: 160, height: 90 };
    expect(gate.check(same)).toMatchObject({ kind: 'unchanged', since: 0 });
    const small = { seq: 2, atMs: 400, pixels: Buffer.alloc(160 * 160 * 3, 100), width: 160, height: 160 };
    expect(gate.check(small)).toMatchObject({ kind: 'changed', reason: 'resized' });
    gate.reset();
    expect(gate.reference).toBeNull();
    expect(gate.check(frame(3))).toMatchObject({ kind: 'changed', reason: 'first' });
  });
});

const videoDir = path.resolve(
  import.meta.dirname,
  '../../../..',
  process.env.SQUEEZEGATE_VIDEO_DIR ?? '../shared/datasets/video-sample',
);
const haveClips = ['car-detection.mp4', 'vtest.avi'].every((f) => existsSync(path.join(videoDir, f)));

/** Decodes a clip as the agent would analyse it: 5 fps, 256 px high, raw RGB. */
async function decode(file: string): Promise<GateFrame[]> {
  const args = ['-v', 'info', '-nostats', '-i', file, '-vf', 'fps=5,scale=-2:256'];
  const child = spawn(ffmpeg.path, [...args, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let log = '';
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const size = /Output #0[\s\S]*?rgb24[^,]*,\s*(\d+)x(\d+)/.exec(log);
  if (code !== 0 || !size) throw new Error(`ffmpeg failed on ${file}: ${log.slice(-500)}`);
  const width = Number(size[1]);
  const height = Number(size[2]);
  const all = Buffer.concat(chunks);
  const bytes = width * height * 3;
  const frames: GateFrame[] = [];
  for (let o = 0, seq = 0; o + bytes <= all.length; o += bytes, seq++) {
    frames.push({ seq, atMs: seq * 200, pixels: all.subarray(o, o + bytes), width, height });
  }
  return frames;
}

function skipShare(frames: GateFrame[]): number {
  const gate = createSceneGate();
  let reused = 0;
  for (const f of frames) if (gate.check(f).kind === 'unchanged') reused++;
  return reused / frames.length;
}

describe.skipIf(!haveClips)('scene gate (real clips at 5 fps)', () => {
  it('skips much of the parking lot and little of the busy street', async () => {
    const lot = await decode(path.join(videoDir, 'car-detection.mp4'));
    const street = await decode(path.join(videoDir, 'vtest.avi'));
    expect(lot.length).toBeGreaterThan(140);
    expect(street.length).toBeGreaterThan(380);
    const lotShare = skipShare(lot);
    const streetShare = skipShare(street);
    // Measured with the defaults: parking lot 56 %, street 5 % (see scene-gate.ts).
    expect(lotShare).toBeGreaterThan(0.4);
    expect(streetShare).toBeLessThan(0.2);
    expect(lotShare).toBeGreaterThan(streetShare + 0.3);
  }, 120_000);
});
