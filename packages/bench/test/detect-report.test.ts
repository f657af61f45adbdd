import { spliceSection } from '@squeezegate/bench';
import { type DetectionMetrics, DetectSchema, PrivacySchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { cascadeRows, type FrameCost } from '../src/detect/cascade.ts';
import { stillFound } from '../src/detect/privacy.ts';
import type { DetectBenchResults, TilingRow } from '../src/detect/results.ts';
import { ratio, spread } from '../src/detect/stats.ts';
import { detectHeadline, detectTable, goalVerdict, tilingVerdict } from '../src/detect/table.ts';

const metrics = (tp: number, fp: number, fn: number): DetectionMetrics => ({
  tp,
  fp,
  fn,
  precision: tp + fp > 0 ? tp / (tp + fp) : 0,
  recall: tp + fn > 0 ? tp / (tp + fn) : 0,
  ap50: 0,
});

const tiling = (mode: 'off' | 'auto', m: DetectionMetrics, vsOff: number): TilingRow => ({
  id: 'yolox-nano-416',
  tiling: mode,
  frames: 10,
  passesPerFrame: mode === 'off' ? 1 : 5,
  latencyMs: { p50: 16 * vsOff, p95: 18 * vsOff, n: 30 },
  latencyVsOff: vsOff,
  accuracy: m,
  labelledFrames: 3,
});

describe('spread', () => {
  it('takes nearest-rank p50 and p95 whatever the order', () => {
    const values = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(spread(values)).toEqual({ p50: 10, p95: 19, n: 20 });
    expect(spread([7])).toEqual({ p50: 7, p95: 7, n: 1 });
  });
  it('refuses an empty sample', () => {
    expect(() => spread([])).toThrow(RangeError);
  });
  it('ratio has no baseline to divide by at zero', () => {
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(3, 4)).toBe(0.75);
  });
});

describe('tilingVerdict', () => {
  it('says helped when more objects are found than false positives added', () => {
    const v = tilingVerdict(tiling('off', metrics(1, 0, 2), 1), tiling('auto', metrics(3, 1, 0), 4.84));
    expect(v).toContain('**helped**');
    expect(v).toContain('2 more of the 3 labelled objects');
    expect(v).toContain('recall 33.3 % → 100.0 %');
    expect(v).toContain('+1 false positive(s)');
    expect(v).toContain('4.84x the latency (5.0 passes a frame)');
  });
  it('says so when recall rose but precision paid more', () => {
    const v = tilingVerdict(tiling('off', metrics(1, 0, 2), 1), tiling('auto', metrics(2, 3, 1), 5));
    expect(v).toContain('helped recall but cost precision');
  });
  it('says did not help, and hurt', () => {
    expect(tilingVerdict(tiling('off', metrics(1, 0, 2), 1), tiling('auto', metrics(1, 0, 2), 5))).toContain(
      '**did not help**: the same 1 of 3',
    );
    expect(tilingVerdict(tiling('off', metrics(2, 0, 1), 1), tiling('auto', metrics(1, 0, 2), 5))).toContain(
      '**hurt**: 1 fewer',
    );
  });
});

describe('goalVerdict', () => {
  it('tells the median from the tail', () => {
    expect(goalVerdict({ p50: 2, p95: 4.9, n: 10 }, 5)).toMatch(
      /^\*\*meets\*\* the goal of under 5 ms \(p50 2\.0/,
    );
    expect(goalVerdict({ p50: 4, p95: 9, n: 10 }, 5)).toContain('at p50 but **not at p95**');
    expect(goalVerdict({ p50: 5, p95: 9, n: 10 }, 5)).toMatch(/^\*\*misses\*\*/);
  });
});

describe('cascadeRows', () => {
  const cost = (set: string, over: Partial<FrameCost>): FrameCost => ({
    set,
    capturedBytes: 1000,
    frameQ85Bytes: 400,
    cascadeBytes: 0,
    crops: 0,
    framePayloads: 0,
    facesObscured: 0,
    ...over,
  });
  it('sums per set in first-seen order, then over all frames', () => {
    const rows = cascadeRows([
      cost('kitti', { cascadeBytes: 100, crops: 2 }),
      cost('coco', {}),
      cost('kitti', { cascadeBytes: 50, framePayloads: 1, facesObscured: 2 }),
    ]);
    expect(rows.map((r) => r.set)).toEqual(['kitti', 'coco', 'all']);
    expect(rows[0]).toMatchObject({ frames: 2, local: 0, crops: 2, framePayloads: 1, cascadeBytes: 150 });
    expect(rows[0]!.vsCaptured).toBeCloseTo(150 / 2000);
    expect(rows[0]!.vsFrameQ85).toBeCloseTo(150 / 800);
    expect(rows[1]).toMatchObject({ frames: 1, local: 1, cascadeBytes: 0, vsCaptured: 0 });
    expect(rows[2]).toMatchObject({ frames: 3, local: 1, crops: 2, facesObscured: 2, capturedBytes: 3000 });
  });
});

describe('stillFound', () => {
  it('counts the faces before that a box after still overlaps enough', () => {
    const before = [
      [0, 0, 10, 10],
      [20, 20, 30, 30],
    ] as const;
    expect(stillFound(before, [], 0.3)).toBe(0);
    expect(stillFound(before, [[1, 1, 11, 11]], 0.3)).toBe(1);
    expect(stillFound(before, [[5, 5, 15, 15]], 0.3)).toBe(0);
  });
});

describe('detectTable', () => {
  const spreadOf = (p50: number) => ({ p50, p95: p50 * 1.2, n: 84 });
  const results: DetectBenchResults = {
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGb: 8,
      platform: 'linux',
      node: 'v20',
      date: '2026-01-02T00:00:00Z',
    },
    command: 'npm run bench:detect -- --runs 3',
    settings: {
      dataset: 'd',
      imagenet: 'i',
      runs: 3,
      limit: 300,
      stride: 3,
      threads: 1,
      apFloor: 0.05,
      frames: 28,
      sets: { kitti: 3, coco: 8 },
    },
    runtimeS: 95.4,
    baseline: 'yolox-nano-416',
    detectors: [
      {
        id: 'yolox-nano-416',
        family: 'yolox',
        role: 'detector',
        experimental: false,
        scoreThreshold: 0.3,
        latencyMs: spreadOf(20),
        inferMs: spreadOf(12),
        latencyVsBaseline: 1,
        detectionsPerFrame: 4.5,
        scoredOn: { images: 11, boxes: 33, classMap: {} },
        accuracy: { ...metrics(13, 7, 20), ap50: 0.4631 },
        faces: null,
      },
      {
        id: 'ultraface-rfb320',
        family: 'ultraface',
        role: 'face',
        experimental: false,
        scoreThreshold: 0.7,
        latencyMs: spreadOf(5),
        inferMs: spreadOf(2),
        latencyVsBaseline: 0.25,
        detectionsPerFrame: 7.1,
        scoredOn: null,
        accuracy: null,
        faces: { photos: 10, found: 197, perPhoto: [] },
      },
    ],
    tiling: [tiling('off', metrics(1, 0, 2), 1), tiling('auto', metrics(2, 1, 1), 5.16)],
    cascade: {
      detector: 'yolox-nano-416',
      detect: DetectSchema.parse({}),
      privacy: PrivacySchema.parse({}),
      quality: 85,
      cloudView: { resizeShortSide: 256, centerCrop: 224 },
      rows: cascadeRows([
        {
          set: 'kitti',
          capturedBytes: 4000,
          frameQ85Bytes: 1000,
          cascadeBytes: 250,
          crops: 1,
          framePayloads: 0,
          facesObscured: 0,
        },
      ]),
    },
    privacyCost: {
      faceModel: 'ultraface-rfb320',
      faceThreads: 2,
      goal: { shortSide: 320, ms: 5 },
      residualIou: 0.3,
      encoding: { codec: 'webp', quality: 80 },
      auditors: ['ultraface-rfb640'],
      residualThreshold: 0.6,
      rows: [
        {
          images: 'face photos',
          payload: 'frame at 320 px short side, blur',
          samples: 30,
          redactionMs: { p50: 8, p95: 12, n: 30 },
          payloadsWithFaces: 10,
          facesObscured: 336,
          residual: { found: 187, stillFound: 1 },
        },
        {
          images: 'ImageNet (300, one in 3)',
          payload: 'frame at 320 px short side, pixelate',
          samples: 900,
          redactionMs: { p50: 4, p95: 9.5, n: 900 },
          payloadsWithFaces: 90,
          facesObscured: 160,
          residual: { found: 113, stillFound: 0 },
        },
      ],
    },
    privacyAccuracy: {
      classifier: 'mobilenetv2-12-int8',
      images: 300,
      payloadsWithFaces: 50,
      rows: [
        { faces: 'off', top1: 0.8, vsPlain: 1, top1WithFaces: 0.7, top1Others: 0.84, meanBytes: 12600 },
        { faces: 'blur', top1: 0.76, vsPlain: 0.95, top1WithFaces: 0.6, top1Others: null, meanBytes: 12100 },
        {
          faces: 'pixelate',
          top1: 0.77,
          vsPlain: 0.96,
          top1WithFaces: 0.62,
          top1Others: 0.8,
          meanBytes: 12200,
        },
      ],
      changed: { blur: { lost: ['n01440764_1.JPEG'], gained: [] }, pixelate: { lost: [], gained: [] } },
    },
  };
  const table = detectTable(results);

  it('prints the machine, the command and the run time', () => {
    expect(table).toMatch(/^Produced by `npm run bench:detect -- --runs 3` on Test CPU, 2 cores, 8 GiB/);
    expect(table).toContain('2026-01-02, in 95 s');
  });
  it('writes every section from the figures given', () => {
    expect(table).toContain(
      '| yolox-nano-416 | 0.30 | 20.0 / 24.0 | 12.0 | 1.00x | 4.5 | 11 labelled images, 33 boxes | 13 / 7 / 20 | 0.65 | 0.39 | 0.463 |',
    );
    expect(table).toContain(
      '| ultraface-rfb320 | 0.70 | 5.0 / 6.0 | 2.0 | 0.25x | 7.1 | 197 faces on 10 face photos |',
    );
    expect(table).toContain('- yolox-nano-416: tiling **helped**');
    expect(table).toContain(
      '| **all** | 1 | 0 | 1 | 0 | 0 | 4.0 kB | 1.0 kB | 0.3 kB | **6.3 %** | 25.0 % |',
    );
    expect(table).toContain(
      'frame at 320 px short side, blur: **misses** the goal of under 5 ms (p50 8.0 ms, p95 12.0 ms)',
    );
    expect(table).toContain(
      'Residual check on the face photos: of 187 faces found on the unredacted payloads, **1** are still found',
    );
    expect(table).toContain('On the other images, 0 of 113: most are animals');
    expect(table).toContain(
      '| faces | cloud top-1 | vs plain | top-1 on the 50 crops with a face obscured | top-1 on the other 250 |',
    );
    expect(table).toContain('| blur | **76.0 %** | 0.95x | 60.0 % | — | 12.1 kB |');
    expect(table).toContain('checked by face models the redaction did not use (ultraface-rfb640)');
    expect(table).toContain('- blur: right plain and wrong redacted: n01440764_1.JPEG; the other way: none.');
    expect(table).not.toMatch(/NaN|undefined|null/);
  });
  it('splices into a docs file between the detect markers', () => {
    const doc = 'intro\n<!-- bench:detect:start -->\nSTALE SECTION\n<!-- bench:detect:end -->\nrest\n';
    const out = spliceSection(doc, table, 'detect');
    expect(out).toContain(`<!-- bench:detect:start -->\n${table.trimEnd()}\n<!-- bench:detect:end -->\nrest`);
    expect(out).not.toContain('STALE SECTION');
  });
  it('gives the README its headline rows from the same figures', () => {
    expect(detectHeadline(results)).toEqual([
      {
        figure:
          'Uplink of the object-level detect cascade (yolox-nano-416, 1 frames), of every frame as captured',
        value: '6.3 %',
      },
      {
        figure: 'Time face redaction (pixelate) adds to a frame at 320 px short side, p50 / p95',
        value: '4.0 / 9.5 ms',
      },
      {
        figure:
          'Faces on the face photos still found after redaction by ultraface-rfb640 (not used to redact)',
        value: '1 of 187',
      },
      {
        figure: 'Cloud top-1 on 224 crops, faces redacted (pixelate) against not',
        value: '77.0 % against 80.0 %',
      },
    ]);
  });
});
