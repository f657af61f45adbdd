import {
  type DecodeOptions,
  decodePicodet,
  decodeSqueezedet,
  decodeUltraface,
  decodeYolox,
  type InputMapping,
  mapBox,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const COCO3 = ['person', 'bicycle', 'car'];
const whole = (width: number, height: number): InputMapping['region'] => ({ left: 0, top: 0, width, height });

function options(partial: Partial<DecodeOptions> & Pick<DecodeOptions, 'mapping' | 'input'>): DecodeOptions {
  return { labels: COCO3, scoreThreshold: 0.3, nms: 0.45, maxDetections: 100, ...partial };
}

function expectBox(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(4);
  actual.forEach((v, i) => {
    expect(v, `coordinate ${i}`).toBeCloseTo(expected[i]!, 4);
  });
}

describe('mapBox', () => {
  it('undoes padding and scale, offsets by the region and clips to it', () => {
    const m: InputMapping = { scaleX: 0.5, scaleY: 0.25, padLeft: 10, padTop: 20, region: whole(100, 100) };
    expectBox(mapBox(20, 30, 40, 40, m)!, [20, 40, 60, 80]);
    expectBox(mapBox(0, 0, 500, 500, m)!, [0, 0, 100, 100]);
    const tile: InputMapping = { ...m, region: { left: 300, top: 0, width: 100, height: 100 } };
    expectBox(mapBox(20, 30, 40, 40, tile)!, [320, 40, 360, 80]);
    // Entirely in the padding: nothing left.
    expect(mapBox(0, 0, 5, 5, m)).toBeUndefined();
  });
});

describe('decodeYolox', () => {
  // 416² input: 52² + 26² + 13² = 3549 rows of 5 + C columns.
  const C = COCO3.length;
  const row = (output: Float32Array, index: number, values: number[]) => output.set(values, index * (5 + C));
  // An 832×624 frame letterboxed top-left: r = min(416/832, 416/624) = 0.5.
  const mapping: InputMapping = { scaleX: 0.5, scaleY: 0.5, padLeft: 0, padTop: 0, region: whole(832, 624) };
  const o = options({ mapping, input: { width: 416, height: 416 } });

  it('decodes grid cells of each stride into frame boxes scored obj × cls', () => {
    const out = new Float32Array(3549 * (5 + C));
    // Stride 8, cell (gx 10, gy 5) = row 5·52 + 10: cx = 10.5·8 = 84, cy = 44, w = 4·8, h = 2·8.
    row(out, 5 * 52 + 10, [0.5, 0.5, Math.log(4), Math.log(2), 0.9, 0.1, 0.2, 0.8]);
    // Stride 32, cell (gx 3, gy 2) = row 52² + 26² + 2·13 + 3: cx = 3·32 = 96, cy = 64, w = h = 32.
    row(out, 52 * 52 + 26 * 26 + 2 * 13 + 3, [0, 0, 0, 0, 0.5, 0.9, 0, 0]);
    // obj × cls = 0.9 × 0.3 = 0.27 < 0.3: dropped.
    row(out, 100, [0, 0, 0, 0, 0.9, 0.3, 0, 0]);
    const dets = decodeYolox(out, o);
    expect(dets.map((d) => [d.label, d.classIndex])).toEqual([
      ['car', 2],
      ['person', 0],
    ]);
    expect(dets[0]!.score).toBeCloseTo(0.72, 6);
    expectBox(dets[0]!.box, [136, 72, 200, 104]); // (68, 36, 100, 52) / 0.5
    expect(dets[1]!.score).toBeCloseTo(0.45, 6);
    expectBox(dets[1]!.box, [160, 96, 224, 160]); // (80, 48, 112, 80) / 0.5
  });

  it('suppresses a same-class duplicate but keeps another class on the same spot', () => {
    const out = new Float32Array(3549 * (5 + C));
    row(out, 270, [0.5, 0.5, Math.log(4), Math.log(4), 0.9, 0, 0, 0.9]);
    row(out, 271, [-0.5, 0.5, Math.log(4), Math.log(4), 0.9, 0, 0, 0.8]); // same box, lower car score
    row(out, 272, [-1.5, 0.5, Math.log(4), Math.log(4), 0.9, 0.5, 0, 0]); // same box, person
    const dets = decodeYolox(out, o);
    expect(dets.map((d) => [d.label, Number(d.score.toFixed(2))])).toEqual([
      ['car', 0.81],
      ['person', 0.45],
    ]);
    expect(decodeYolox(out, { ...o, scoreThreshold: 0.5 }).map((d) => d.label)).toEqual(['car']);
  });

  it('rejects an output of the wrong size', () => {
    expect(() => decodeYolox(new Float32Array(3549 * 85), o)).toThrow(/3549|values/);
  });
});

describe('decodePicodet', () => {
  const C = COCO3.length;
  const cells = [1600, 400, 100, 25];
  const blank = () => ({
    scores: cells.map((n) => new Float32Array(n * C)),
    boxes: cells.map((n) => new Float32Array(n * 32)),
  });
  /** DFL logits that put (almost) all mass on bin `b` for each of the 4 sides. */
  const peaked = (bins: readonly number[]) => {
    const v = new Float32Array(32);
    bins.forEach((b, k) => {
      v[k * 8 + b] = 30;
    });
    return v;
  };
  // A 640×480 frame letterboxed and centred in 320²: r = 0.5, 320×240 at top 40.
  const mapping: InputMapping = { scaleX: 0.5, scaleY: 0.5, padLeft: 0, padTop: 40, region: whole(640, 480) };
  const o = options({ mapping, input: { width: 320, height: 320 }, nms: 0.5 });

  it('decodes DFL distances around the cell centre and maps out of the centred letterbox', () => {
    const t = blank();
    // Stride 16 (grid 20), cell 3·20 + 7: centre (7·16 + 7.5, 3·16 + 7.5) = (119.5, 55.5).
    const cell = 3 * 20 + 7;
    t.scores[1]!.set([0.1, 0.2, 0.6], cell * C);
    t.boxes[1]!.set(peaked([2, 1, 3, 4]), cell * 32); // distances 32, 16, 48, 64
    const dets = decodePicodet(t, o);
    expect(dets).toHaveLength(1);
    expect(dets[0]!).toMatchObject({ label: 'car', classIndex: 2 });
    expect(dets[0]!.score).toBeCloseTo(0.6, 6);
    // Input box (87.5, 39.5, 167.5, 119.5); y1 = (39.5 − 40) / 0.5 < 0 is clipped to 0.
    expectBox(dets[0]!.box, [175, 0, 335, 159]);
  });

  it('takes the expectation of the bin distribution, not its peak', () => {
    const t = blank();
    // Stride 64 (grid 5), cell 0: centre (31.5, 31.5); uniform bins → 3.5 · 64 = 224 each side.
    t.scores[3]!.set([0.9, 0, 0], 0);
    const dets = decodePicodet(t, { ...o, mapping: { ...mapping, padTop: 0, scaleX: 1, scaleY: 1 } });
    expectBox(dets[0]!.box, [0, 0, 255.5, 255.5]);
  });

  it('rejects a level of the wrong size', () => {
    const t = blank();
    t.scores[2] = new Float32Array(99 * C);
    expect(() => decodePicodet(t, o)).toThrow(/stride 32/);
  });
});

describe('decodeSqueezedet', () => {
  const KITTI = ['car', 'pedestrian', 'cyclist'];
  // A 624×192 frame stretched to 1248×384: scale 2 on both axes.
  const mapping: InputMapping = { scaleX: 2, scaleY: 2, padLeft: 0, padTop: 0, region: whole(624, 192) };
  const o = options({
    mapping,
    input: { width: 1248, height: 384 },
    labels: KITTI,
    scoreThreshold: 0.4,
    nms: 0.4,
    preNmsTopK: 3,
  });
  const boxes = new Float32Array([
    ...[100, 100, 200, 200], // 0 car 0.9
    ...[110, 100, 210, 200], // 1 car 0.8, IoU with 0 ≈ 0.82: suppressed
    ...[400, 100, 440, 200], // 2 pedestrian 0.7
    ...[600, 100, 700, 200], // 3 car 0.6: fourth best, cut by the top-3
    ...[800, 100, 900, 200], // 4 cyclist 0.3: under the threshold
  ]);
  const scores = new Float32Array([
    ...[0.9, 0.05, 0.05],
    ...[0.8, 0.1, 0.1],
    ...[0.1, 0.7, 0.2],
    ...[0.6, 0.2, 0.2],
    ...[0.1, 0.1, 0.3],
  ]);

  it('keeps the top-K anchors, applies NMS, then the threshold, in frame pixels', () => {
    const dets = decodeSqueezedet({ boxes, scores }, o);
    expect(dets.map((d) => [d.label, d.score])).toEqual([
      ['car', 0.8999999761581421],
      ['pedestrian', 0.699999988079071],
    ]);
    expectBox(dets[0]!.box, [50, 50, 100, 100]);
    expectBox(dets[1]!.box, [200, 50, 220, 100]);
  });

  it('without the top-K cut, the fourth anchor survives', () => {
    const dets = decodeSqueezedet({ boxes, scores }, { ...o, preNmsTopK: undefined });
    expect(dets.map((d) => d.label)).toEqual(['car', 'pedestrian', 'car']);
    const low = decodeSqueezedet({ boxes, scores }, { ...o, preNmsTopK: undefined, scoreThreshold: 0.25 });
    expect(low.map((d) => d.label)).toEqual(['car', 'pedestrian', 'car', 'cyclist']);
  });
});

describe('decodeUltraface', () => {
  // A 640×480 frame stretched to 320×240: normalised boxes scale straight to the frame.
  const mapping: InputMapping = { scaleX: 0.5, scaleY: 0.5, padLeft: 0, padTop: 0, region: whole(640, 480) };
  const o = options({
    mapping,
    input: { width: 320, height: 240 },
    labels: ['face'],
    scoreThreshold: 0.7,
    nms: 0.3,
  });

  it('reads the face column, scales normalised boxes to the frame and suppresses at IoU 0.3', () => {
    const scores = new Float32Array([...[0.1, 0.9], ...[0.5, 0.5], ...[0.2, 0.8], ...[0.25, 0.75]]);
    const boxes = new Float32Array([
      ...[0.1, 0.2, 0.3, 0.4],
      ...[0.5, 0.5, 0.6, 0.6], // face prob 0.5 < 0.7
      ...[0.12, 0.2, 0.32, 0.4], // IoU with the first ≈ 0.82: suppressed
      ...[0.6, 0.6, 1.2, 0.9], // runs off the right edge: clipped
    ]);
    const dets = decodeUltraface({ scores, boxes }, o);
    expect(dets.map((d) => [d.label, d.classIndex, Number(d.score.toFixed(2))])).toEqual([
      ['face', 0, 0.9],
      ['face', 0, 0.75],
    ]);
    expectBox(dets[0]!.box, [64, 96, 192, 192]);
    expectBox(dets[1]!.box, [384, 288, 640, 432]);
  });
});
