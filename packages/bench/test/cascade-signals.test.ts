import { fitScorer, type SignalledPrediction } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';
import { mulberry32, randomInt } from '../../../test/support/prng.ts';
import { bootstrapMinOffload } from '../src/cascade/signal-bootstrap.ts';
import { analyseSignals, crossFitScores, twoFolds } from '../src/cascade/signals.ts';

const CLASSES = 10;

/**
 * Frames whose "should go" label is a coin flip that no feature predicts, but whose pooled
 * vectors are wide random noise: a rule scored on the frames it was fitted on memorises them.
 */
function noiseFrames(n: number, dims: number, seed: number): SignalledPrediction[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, f) => {
    const truth = randomInt(random, CLASSES);
    const edge = new Float32Array(CLASSES).map(() => 0.5 + random());
    const top = random() < 0.5 ? truth : (truth + 1) % CLASSES;
    edge[top] = 3;
    const sum = edge.reduce((s, x) => s + x, 0);
    edge.forEach((x, i) => {
      edge[i] = x / sum;
    });
    const cloudTop = random() < 0.7 ? truth : (truth + 2) % CLASSES;
    return {
      name: `f${f}`,
      truth,
      capturedBytes: 1000,
      edge,
      cloud: {
        captured: { top1: cloudTop, p: 0.9, bytes: 1000 },
        'crop-webp-q80': { top1: cloudTop, p: 0.9, bytes: 200 },
      },
      signals: {
        flip: edge.map((x) => x * (0.8 + 0.4 * random())),
        alt: edge.map(() => random()),
        pooled: Float32Array.from({ length: dims }, () => random()),
      },
    };
  });
}

/** Share of (goes, stays) pairs ordered right by the score (low score = goes first): the AUC. */
function auc(score: readonly number[], goes: readonly boolean[]): number {
  let right = 0;
  let pairs = 0;
  score.forEach((a, i) => {
    if (!goes[i]) return;
    score.forEach((b, j) => {
      if (goes[j]) return;
      pairs++;
      right += a < b ? 1 : a === b ? 0.5 : 0;
    });
  });
  return right / pairs;
}

describe('signal cross-fitting', () => {
  const set = noiseFrames(200, 300, 11);
  const goes = set.map(
    (p) => p.cloud.captured!.top1 === p.truth && p.edge.indexOf(Math.max(...p.edge)) !== p.truth,
  );

  it('two folds split the frames: disjoint, together all of them', () => {
    const [a, b] = twoFolds(set.length);
    expect(new Set([...a, ...b]).size).toBe(set.length);
    expect(a.filter((i) => b.includes(i))).toEqual([]);
    expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(1);
  });

  it('never scores a frame by a rule fitted on it: a memorising rule is at chance held out', () => {
    // Scored on its own fitting data, the pooled rule separates pure noise almost perfectly...
    const inSample = fitScorer('learned+pooled', set, 'captured');
    expect(
      auc(
        set.map((p) => inSample.score(p)),
        goes,
      ),
    ).toBeGreaterThan(0.9);
    // ...cross-fitted, it cannot: what it learned does not carry to the other fold.
    const crossed = crossFitScores(set, 'learned+pooled', 'captured', twoFolds(set.length));
    expect(crossed.every(Number.isFinite)).toBe(true);
    const held = auc(crossed, goes);
    expect(held).toBeGreaterThan(0.3);
    expect(held).toBeLessThan(0.7);
  });

  it('reports every signal on both payloads with its measured extra ms', () => {
    const r = analyseSignals(set, { cost: { frames: 5, baseMs: 10, flipMs: 7, altMs: 20, pooledMs: 0.1 } });
    const row = (s: string) => r.rows.find((x) => x.signal === s)!;
    expect(r.rows.map((x) => x.signal)).toContain('learned+flip+alt');
    expect(row('maxProb').extraMs).toBe(0);
    expect(row('flip').extraMs).toBe(7);
    expect(row('learned+alt').extraMs).toBe(20);
    expect(row('learned+flip+alt').extraMs).toBe(27);
    expect(row('flip+alt').extraMs).toBe(27);
    expect(row('learned+agree').extraMs).toBe(27);
    expect(row('learned+pooled').extraMs).toBeCloseTo(0.1, 12);
    for (const x of r.rows)
      expect(Object.keys(x.minOffloadFor99).sort()).toEqual(['crop-webp-q80', 'original']);
    // The WebP payload is 20 % of captured: a 25 % byte cap lets every frame go.
    expect(row('maxProb').atBytesCap?.offloadFraction).toBe(1);
    // Without pooled activations, the pooled rule is left out rather than failing the bench.
    const lean = analyseSignals(
      set.map((p) => ({ ...p, signals: { ...p.signals, pooled: null } })),
      { cost: null },
    );
    expect(lean.rows.map((x) => x.signal)).not.toContain('learned+pooled');
    expect(lean.rows.find((x) => x.signal === 'alt')?.extraMs).toBeNull();
  });

  it('bootstrap: a score that knows which frames pay beats a blind one on nearly every resample', () => {
    const outcomes = set.map((p, i) => ({
      edgeCorrect: p.edge.indexOf(Math.max(...p.edge)) === p.truth,
      cloudCorrect: p.cloud.captured!.top1 === p.truth,
      payloadBytes: 1,
      capturedBytes: 1,
      i,
    }));
    const random = mulberry32(3);
    const spread = bootstrapMinOffload(
      outcomes,
      {
        // Lower = offloaded first: the frames where the cloud is right and the edge wrong.
        knows: outcomes.map((o) => (o.cloudCorrect && !o.edgeCorrect ? 0 : 1)),
        blind: outcomes.map(() => random()),
      },
      { reference: 'blind', reps: 50 },
    );
    expect(spread.blind!.belowReference).toBe(0);
    expect(spread.knows!.belowReference).toBeGreaterThan(0.95);
    const [lo, hi] = spread.knows!.interval90!;
    expect(lo).toBeLessThanOrEqual(hi);
    expect(hi).toBeLessThan(spread.blind!.interval90![0]);
  });
});
