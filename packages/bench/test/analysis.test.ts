import {
  analyse,
  type CascadeResults,
  cascadeHeadline,
  cheapestWithin,
  type MachineInfo,
  MissingMarkersError,
  spliceSection,
  toChartSvg,
  toCsv,
  toMarkdown,
} from '@squeezegate/bench';
import type { CloudVariant, CloudView, FramePrediction } from '@squeezegate/edge';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, randomInt } from '../../../test/support/prng.ts';

const CLASSES = 10;
const FRAMES = 400;
const VARIANTS: readonly CloudVariant[] = ['captured', 'crop-q85'];

interface Truths {
  edgeRight: boolean[];
  cloudRight: Record<string, boolean[]>;
}

/**
 * Labelled predictions driven by a latent difficulty d ∈ [0, 1]: the edge is right with
 * probability 0.95 − 0.75·d, its top probability falls with d; the cloud is right with
 * 0.97 − 0.25·d as captured and 0.92 − 0.3·d through the crop, at 1/5 of the bytes. Returns what
 * was drawn too, so the tests count accuracies without going through the code under test.
 */
function synthetic(frames: number, seed: number): { predictions: FramePrediction[]; truths: Truths } {
  const random = mulberry32(seed);
  const wrong = (truth: number) => (truth + 1 + randomInt(random, CLASSES - 1)) % CLASSES;
  const truths: Truths = { edgeRight: [], cloudRight: { captured: [], 'crop-q85': [] } };
  const rule: Record<string, (d: number) => number> = {
    captured: (d) => 0.97 - 0.25 * d,
    'crop-q85': (d) => 0.92 - 0.3 * d,
  };
  const predictions: FramePrediction[] = [];
  for (let f = 0; f < frames; f++) {
    const d = random();
    const truth = randomInt(random, CLASSES);
    const edgeOk = random() < 0.95 - 0.75 * d;
    const top = edgeOk ? truth : wrong(truth);
    const p1 = Math.min(0.99, Math.max(0.3, 1 - 0.6 * d + (random() - 0.5) * 0.1));
    const rest = Array.from({ length: CLASSES - 1 }, () => 0.5 + random());
    const sum = rest.reduce((s, x) => s + x, 0);
    const edge = new Float32Array(CLASSES);
    let j = 0;
    for (let c = 0; c < CLASSES; c++) edge[c] = c === top ? p1 : ((1 - p1) * rest[j++]!) / sum;
    truths.edgeRight.push(edgeOk);
    const capturedBytes = 40_000 + randomInt(random, 20_000);
    const u = random();
    const other = wrong(truth);
    const cloud = {} as Record<CloudVariant, CloudView>;
    for (const v of VARIANTS) {
      const ok = u < rule[v]!(d);
      truths.cloudRight[v]!.push(ok);
      cloud[v] = {
        top1: ok ? truth : other,
        p: 1 - 0.5 * d,
        bytes: v === 'captured' ? capturedBytes : Math.round(capturedBytes / 5),
      };
    }
    predictions.push({ name: `f${f}.jpg`, truth, capturedBytes, edge, cloud });
  }
  return { predictions, truths };
}

const count = (xs: readonly boolean[]) => xs.filter(Boolean).length;
const prices = { perGb: 0.09, per1kInferences: 0.2 };
const { predictions, truths } = synthetic(FRAMES, 21);
// Unlabelled frames are left out of every figure.
const unlabelled = synthetic(20, 22).predictions.map((p) => ({ ...p, truth: null }));
const edgeTop1 = count(truths.edgeRight) / FRAMES;
const cloudTop1 = (v: string) => count(truths.cloudRight[v]!) / FRAMES;

let r: CascadeResults;
beforeAll(() => {
  r = analyse([...predictions, ...unlabelled], { variants: VARIANTS, prices, fps: 10 });
});

const rowsOf = (payload: string, policy: string) =>
  r.rows.filter((x) => x.payload === payload && x.policy === policy);

describe('analyse', () => {
  it('has the headline keys', () => {
    expect(Object.keys(r.headline).sort()).toEqual(
      [
        'best',
        'bytesRatioAt99',
        'cheapestNearOriginal',
        'cloudTop1',
        'edgeTop1',
        'offloadFor99PctOfCloud',
        'payload',
      ].sort(),
    );
    expect(Object.keys(r.headline.offloadFor99PctOfCloud).sort()).toEqual(
      ['calibrated', 'entropy', 'learned', 'margin', 'maxProb', 'rate'].sort(),
    );
    expect(r.headline.payload).toBe('original');
    expect(r.frames).toBe(FRAMES);
  });

  it('counts edge-only and cloud-only top-1 over the labelled frames', () => {
    expect(r.edgeTop1).toBe(edgeTop1);
    expect(r.cloudTop1).toBe(cloudTop1('captured'));
    expect(r.headline.edgeTop1).toBe(edgeTop1);
    expect(r.headline.cloudTop1).toBe(cloudTop1('captured'));
    expect(r.target).toBeCloseTo(0.99 * cloudTop1('captured'), 12);
    expect(r.payloads.map((p) => [p.payload, p.cloudTop1])).toEqual([
      ['original', cloudTop1('captured')],
      ['crop-q85', cloudTop1('crop-q85')],
    ]);
    const crop = r.payloads[1]!;
    expect(crop.bytesRatio).toBeCloseTo(0.2, 4);
  });

  it('has every policy’s rows for each payload', () => {
    // 5 scorers × 101 points, 20 rates, 20 budgets, edge-only, cloud-only, 21 random, the oracle.
    expect(r.rows).toHaveLength(2 * (5 * 101 + 20 + 20 + 2 + 21 + 1));
    for (const payload of ['original', 'crop-q85']) {
      expect(rowsOf(payload, 'maxProb')).toHaveLength(101);
      expect(rowsOf(payload, 'rate')).toHaveLength(20);
      expect(rowsOf(payload, 'random')).toHaveLength(21);
    }
  });

  it('random rows are the straight line (1 − r)·edge + r·cloud', () => {
    for (const [payload, v] of [
      ['original', 'captured'],
      ['crop-q85', 'crop-q85'],
    ] as const) {
      for (const row of rowsOf(payload, 'random')) {
        const rate = row.param!;
        expect(row.offloadFraction).toBe(rate);
        expect(row.cascadeTop1).toBeCloseTo((1 - rate) * edgeTop1 + rate * cloudTop1(v), 12);
      }
    }
    // Where that line crosses the target, for the headline payload.
    const c = cloudTop1('captured');
    expect(r.minOffloadFor99.original!.random).toBeCloseTo((0.99 * c - edgeTop1) / (c - edgeTop1), 12);
  });

  it('the oracle offloads exactly the edge-wrong, cloud-right frames', () => {
    for (const [payload, v] of [
      ['original', 'captured'],
      ['crop-q85', 'crop-q85'],
    ] as const) {
      const cloud = truths.cloudRight[v]!;
      const helped = count(truths.edgeRight.map((e, i) => !e && cloud[i]!));
      const either = count(truths.edgeRight.map((e, i) => e || cloud[i]!));
      const [oracle] = rowsOf(payload, 'oracle');
      expect(oracle!.offloadFraction).toBeCloseTo(helped / FRAMES, 12);
      expect(oracle!.cascadeTop1).toBeCloseTo(either / FRAMES, 12);
    }
  });

  it('edge-only sends nothing, cloud-only everything', () => {
    const [edgeOnly] = rowsOf('original', 'edge-only');
    expect(edgeOnly).toMatchObject({
      offloadFraction: 0,
      bytesPerFrame: 0,
      bytesRatio: 0,
      costPer1kFrames: 0,
    });
    expect(edgeOnly!.cascadeTop1).toBe(edgeTop1);
    const [cloudOnly] = rowsOf('original', 'cloud-only');
    const captured = predictions.reduce((s, p) => s + p.capturedBytes, 0) / FRAMES;
    expect(cloudOnly!.offloadFraction).toBe(1);
    expect(cloudOnly!.cascadeTop1).toBeCloseTo(cloudTop1('captured'), 12);
    expect(cloudOnly!.keptOfCloud).toBeCloseTo(1, 12);
    expect(cloudOnly!.bytesPerFrame).toBeCloseTo(captured, 6);
    expect(cloudOnly!.bytesRatio).toBeCloseTo(1, 12);
    expect(cloudOnly!.costPer1kFrames).toBeCloseTo(
      ((captured * 1000) / 1e9) * prices.perGb + prices.per1kInferences,
      12,
    );
    const [cropOnly] = rowsOf('crop-q85', 'cloud-only');
    expect(cropOnly!.cascadeTop1).toBeCloseTo(cloudTop1('crop-q85'), 12);
    expect(cropOnly!.bytesRatio).toBeCloseTo(0.2, 4);
  });

  it('no policy reaches the target with fewer offloads than the oracle', () => {
    for (const payload of ['original', 'crop-q85']) {
      const mins = r.minOffloadFor99[payload]!;
      const oracle = mins.oracle;
      expect(oracle).not.toBeNull();
      for (const [policy, f] of Object.entries(mins)) {
        if (f !== null) expect(f, policy).toBeGreaterThanOrEqual(oracle!);
      }
    }
  });

  it('no policy reaches the target with fewer offloads than the target demands', () => {
    // Each offload gains at most one right answer: at least ⌈target·n⌉ − edge-right frames must go.
    const need = (Math.ceil(r.target * FRAMES - 1e-9) - count(truths.edgeRight)) / FRAMES;
    for (const [policy, f] of Object.entries(r.minOffloadFor99.original!)) {
      if (f !== null) expect(f, policy).toBeGreaterThanOrEqual(need - 1e-12);
    }
  });

  // Known bug (analysis.ts, `reach('oracle', oracle)`): the oracle's "smallest offload for 99 %"
  // is the offload of its full set (every edge-wrong, cloud-right frame), which overshoots the
  // target; offloading those frames one by one reaches it at the bound above. Turn into `it` once
  // the oracle is swept as a curve (e.g. curveByScore with score 0 on the oracle mask, 1 elsewhere).
  it('the oracle reaches the target with the fewest offloads possible', () => {
    const need = (Math.ceil(r.target * FRAMES - 1e-9) - count(truths.edgeRight)) / FRAMES;
    expect(r.minOffloadFor99.original!.oracle).toBeCloseTo(need, 12);
  });

  // Known bug (analysis.ts, r99): when the edge alone already meets the target, r99 ≤ 0 and the
  // random baseline is reported as never reaching it instead of at offload 0.
  it('random reaches the target at 0 when the edge alone meets it', () => {
    const easy = predictions.map((p) => ({
      ...p,
      cloud: { ...p.cloud, captured: { ...p.cloud.captured, top1: -1 } },
    }));
    // Cloud right only where the edge is: cloud-only = edge-only, and the target is below both.
    easy.forEach((p, i) => {
      if (truths.edgeRight[i]) p.cloud.captured.top1 = p.truth!;
    });
    const res = analyse(easy, { variants: ['captured'], prices, fps: 10 });
    expect(res.minOffloadFor99.original!.maxProb).toBe(0);
    expect(res.minOffloadFor99.original!.random).toBe(0);
  });

  it('headline: the smallest offload among the policies and its bytes', () => {
    const entries = Object.entries(r.headline.offloadFor99PctOfCloud).filter(
      (e): e is [string, number] => e[1] !== null,
    );
    expect(entries.length).toBeGreaterThan(0);
    const smallest = Math.min(...entries.map((e) => e[1]));
    expect(r.headline.best).not.toBeNull();
    expect(r.headline.offloadFor99PctOfCloud[r.headline.best!]).toBe(smallest);
    expect(r.headline.bytesRatioAt99).toBe(r.bytesRatioFor99.original![r.headline.best!]);
    // Sending the captured frame, bytes follow the offload share (frame sizes vary a little).
    expect(r.headline.bytesRatioAt99!).toBeCloseTo(smallest, 1);
  });

  it('headline: the cheapest payload within a point of original, or original itself', () => {
    // Synthetic crop: 5 points below original, so only original qualifies.
    expect(r.headline.cheapestNearOriginal?.payload).toBe('original');
    const row = (payload: string, bytesPerFrame: number, cloudTop1: number) => ({
      payload,
      bytesPerFrame,
      bytesRatio: bytesPerFrame / 30_000,
      cloudTop1,
    });
    const rows = [
      row('original', 30_000, 0.82),
      row('crop-q85', 14_000, 0.785),
      row('crop-webp-q90', 12_000, 0.811),
      row('crop-webp-q95', 16_000, 0.815),
      row('crop-avif-q50', 6_000, 0.79),
    ];
    expect(cheapestWithin(rows)?.payload).toBe('crop-webp-q90');
    // Exactly one point below still counts; more than a point does not.
    expect(cheapestWithin([row('original', 30_000, 0.82), row('x', 1, 0.81)])?.payload).toBe('x');
    expect(cheapestWithin([row('original', 30_000, 0.82), row('x', 1, 0.8099)])?.payload).toBe('original');
    expect(cheapestWithin(rows.slice(1))).toBeNull();
  });

  it('bytes ratios stay in [0, 1] and the crop sends a fifth of the original’s', () => {
    for (const row of r.rows) {
      expect(row.bytesRatio).toBeGreaterThanOrEqual(0);
      expect(row.bytesRatio).toBeLessThanOrEqual(1.0001);
    }
    const original = rowsOf('original', 'maxProb');
    const crop = rowsOf('crop-q85', 'maxProb');
    crop.forEach((row, k) => {
      expect(row.offloadFraction).toBe(original[k]!.offloadFraction);
      expect(row.bytesRatio).toBeCloseTo(original[k]!.bytesRatio / 5, 3);
    });
  });

  it('fits a temperature on each half and reports the ECE', () => {
    expect(r.temperature.values).toHaveLength(2);
    for (const t of r.temperature.values) expect(t).toBeGreaterThan(1);
    // The synthetic edge is overconfident; a temperature above 1 lowers its calibration error.
    expect(r.temperature.eceAfter).toBeLessThan(r.temperature.eceBefore);
  });

  it('throws without labelled frames', () => {
    expect(() => analyse(unlabelled, { variants: VARIANTS, prices, fps: 10 })).toThrow(/labelled/);
  });
});

describe('report', () => {
  const machine: MachineInfo = {
    cpu: 'Test CPU',
    cores: 2,
    memoryGb: 4,
    platform: 'linux test x64',
    node: 'v20.0.0',
    date: '2025-01-02T03:04:05.000Z',
  };

  it('toCsv: a header and one line per row', () => {
    const csv = toCsv(r.rows);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'payload,policy,param,offloadFraction,cascadeTop1,keptOfCloud,bytesPerFrame,bytesRatio,costPer1kFrames',
    );
    expect(lines).toHaveLength(r.rows.length + 1);
    expect(csv.endsWith('\n')).toBe(true);
    const edgeOnly = lines.find((l) => l.startsWith('original,edge-only,'));
    // param null → empty cell; numbers rounded to 6 decimals.
    expect(edgeOnly).toBe(
      `original,edge-only,,0,${Number(edgeTop1.toFixed(6))},${Number((edgeTop1 / r.cloudTop1).toFixed(6))},0,0,0`,
    );
  });

  it('toMarkdown: the policy table with a row per policy', () => {
    const md = toMarkdown(r, { machine, prices, command: 'npm run bench:cascade' });
    expect(md).toContain('| policy | original | crop-q85 |');
    expect(md).toContain('Produced by `npm run bench:cascade` on Test CPU, 2 cores');
    expect(md).toContain(`${FRAMES} labelled frames`);
    expect(md).toContain('| payload | bytes / frame | of captured | cloud top-1 |');
    const oracle = r.minOffloadFor99.original!.oracle!;
    expect(md).toContain(`| oracle | ${(oracle * 100).toFixed(1)} %`);
  });

  it('toChartSvg: an SVG', async () => {
    const svg = await toChartSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(svg).toContain('offload fraction');
  });

  it('spliceSection: replaces the section between the markers and only that', () => {
    const doc = 'intro\n<!-- bench:cascade:start -->\nold table\n<!-- bench:cascade:end -->\noutro\n';
    const spliced = spliceSection(doc, 'new table\n', 'cascade');
    expect(spliced).toBe(
      'intro\n<!-- bench:cascade:start -->\nnew table\n<!-- bench:cascade:end -->\noutro\n',
    );
    // Splicing again with the same section changes nothing.
    expect(spliceSection(spliced, 'new table', 'cascade')).toBe(spliced);
  });

  it('spliceSection: throws a MissingMarkersError naming the file without both markers in order', () => {
    expect(() => spliceSection('no markers here', 'x', 'cascade', 'docs/x.md')).toThrow(
      /docs\/x\.md has no <!-- bench:cascade:start -->/,
    );
    expect(() => spliceSection('<!-- bench:cascade:start --> only', 'x', 'cascade')).toThrow(
      MissingMarkersError,
    );
    expect(() =>
      spliceSection('<!-- bench:cascade:end --> <!-- bench:cascade:start -->', 'x', 'cascade'),
    ).toThrow(/section/);
  });

  it('cascadeHeadline: edge, cloud and the offload that keeps 99 %, from the results', () => {
    const rows = cascadeHeadline(r);
    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    expect(rows.map((x) => x.value)).toEqual([
      pct(r.edgeTop1),
      pct(r.cloudTop1),
      `${pct(r.headline.offloadFor99PctOfCloud[r.headline.best!]!)} of frames, ${pct(r.headline.bytesRatioAt99!)} of the bytes`,
      // No synthetic payload comes within a point of original: original is its own cheapest.
      `original: ${(r.payloads[0]!.bytesPerFrame / 1000).toFixed(1)} kB (100.0 % of captured), cloud top-1 ${pct(r.cloudTop1)}`,
    ]);
    expect(rows[0]!.figure).toContain(`${FRAMES} labelled frames`);
    expect(rows[2]!.figure).toContain(`best rule: ${r.headline.best}`);
    const never = cascadeHeadline({ ...r, headline: { ...r.headline, best: null, bytesRatioAt99: null } });
    expect(never[2]!.value).toBe('not reached');
    expect(cascadeHeadline({ ...r, headline: { ...r.headline, cheapestNearOriginal: null } })[3]!.value).toBe(
      'none',
    );
  });
});
