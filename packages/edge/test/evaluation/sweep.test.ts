import {
  type CurvePoint,
  curveByScore,
  minOffloadFor,
  type Outcome,
  oracleMask,
  pointForSet,
} from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';

const outcome = (edgeCorrect: boolean, cloudCorrect: boolean, payloadBytes: number): Outcome => ({
  edgeCorrect,
  cloudCorrect,
  payloadBytes,
  capturedBytes: 1000,
});

/**
 * Six frames covering every (edge, cloud) combination. Edge-only: frames 0, 2, 4 right = 3/6.
 * Scores put frames 1 and 3 on a tie (0.2), so the tie-break by position decides the order.
 */
const outcomes: Outcome[] = [
  outcome(true, true, 100), // 0
  outcome(false, true, 200), // 1
  outcome(true, false, 300), // 2
  outcome(false, false, 400), // 3
  outcome(true, true, 500), // 4
  outcome(false, true, 600), // 5
];
const score = [0.9, 0.2, 0.5, 0.2, 0.7, 0.1];

describe('curveByScore', () => {
  // Offload order (score, then position): 5, 1, 3, 2, 4, 0.
  //  k  offloaded  change to correct        correct  bytes
  //  0  —          —                         3        0
  //  1  5          edge ✗ → cloud ✓: +1       4        600
  //  2  1          edge ✗ → cloud ✓: +1       5        800
  //  3  3          edge ✗ → cloud ✗:  0       5        1200
  //  4  2          edge ✓ → cloud ✗: −1       4        1500
  //  5  4          edge ✓ → cloud ✓:  0       4        2000
  //  6  0          edge ✓ → cloud ✓:  0       4        2100
  const expected: CurvePoint[] = [
    { offloaded: 0, offloadFraction: 0, threshold: 0.1, cascadeTop1: 3 / 6, bytesPerFrame: 0 },
    { offloaded: 1, offloadFraction: 1 / 6, threshold: 0.2, cascadeTop1: 4 / 6, bytesPerFrame: 600 / 6 },
    { offloaded: 2, offloadFraction: 2 / 6, threshold: 0.2, cascadeTop1: 5 / 6, bytesPerFrame: 800 / 6 },
    { offloaded: 3, offloadFraction: 3 / 6, threshold: 0.5, cascadeTop1: 5 / 6, bytesPerFrame: 1200 / 6 },
    { offloaded: 4, offloadFraction: 4 / 6, threshold: 0.7, cascadeTop1: 4 / 6, bytesPerFrame: 1500 / 6 },
    { offloaded: 5, offloadFraction: 5 / 6, threshold: 0.9, cascadeTop1: 4 / 6, bytesPerFrame: 2000 / 6 },
    {
      offloaded: 6,
      offloadFraction: 1,
      threshold: Number.POSITIVE_INFINITY,
      cascadeTop1: 4 / 6,
      bytesPerFrame: 2100 / 6,
    },
  ];

  it('offloads the k lowest-scoring frames at point k, with the next frame’s score as threshold', () => {
    const curve = curveByScore(outcomes, score);
    expect(curve).toHaveLength(7);
    curve.forEach((p, k) => {
      const e = expected[k]!;
      expect(p.offloaded).toBe(e.offloaded);
      expect(p.threshold).toBe(e.threshold);
      expect(p.offloadFraction).toBeCloseTo(e.offloadFraction, 12);
      expect(p.cascadeTop1).toBeCloseTo(e.cascadeTop1, 12);
      expect(p.bytesPerFrame).toBeCloseTo(e.bytesPerFrame, 9);
    });
  });

  it('breaks ties by position: swapping the tied frames changes the point between them', () => {
    // Frames 1 and 3 swapped: now the cloud-wrong frame sits first among the 0.2 tie.
    const swapped = [outcomes[0]!, outcomes[3]!, outcomes[2]!, outcomes[1]!, outcomes[4]!, outcomes[5]!];
    const curve = curveByScore(swapped, score);
    // After frames 5 and (new) 1 = old 3: correct 4, bytes 600 + 400.
    expect(curve[2]!.cascadeTop1).toBeCloseTo(4 / 6, 12);
    expect(curve[2]!.bytesPerFrame).toBeCloseTo(1000 / 6, 9);
    // Once both tied frames are in, the two orders agree again.
    expect(curve[3]!.cascadeTop1).toBeCloseTo(5 / 6, 12);
    expect(curve[3]!.bytesPerFrame).toBeCloseTo(1200 / 6, 9);
  });

  it('does not reorder or modify its inputs', () => {
    const scoreCopy = [...score];
    curveByScore(outcomes, score);
    expect(score).toEqual(scoreCopy);
  });

  it('gives a single all-zero point for an empty set', () => {
    expect(curveByScore([], [])).toEqual([
      {
        offloaded: 0,
        offloadFraction: 0,
        threshold: Number.POSITIVE_INFINITY,
        cascadeTop1: 0,
        bytesPerFrame: 0,
      },
    ]);
  });
});

describe('pointForSet', () => {
  it('counts the cloud on masked frames and the edge elsewhere', () => {
    // Offload 0 (cloud ✓), 2 (cloud ✗), 5 (cloud ✓); keep 1 (edge ✗), 3 (edge ✗), 4 (edge ✓).
    const p = pointForSet(outcomes, [true, false, true, false, false, true]);
    expect(p.offloaded).toBe(3);
    expect(p.threshold).toBeNull();
    expect(p.offloadFraction).toBeCloseTo(0.5, 12);
    expect(p.cascadeTop1).toBeCloseTo(3 / 6, 12);
    expect(p.bytesPerFrame).toBeCloseTo((100 + 300 + 600) / 6, 9);
  });

  it('matches the curve point with the same set', () => {
    const curve = curveByScore(outcomes, score);
    // The three lowest scores: frames 5, 1, 3.
    const p = pointForSet(outcomes, [false, true, false, true, false, true]);
    expect(p.cascadeTop1).toBeCloseTo(curve[3]!.cascadeTop1, 12);
    expect(p.bytesPerFrame).toBeCloseTo(curve[3]!.bytesPerFrame, 9);
    expect(p.offloaded).toBe(curve[3]!.offloaded);
  });

  it('treats missing mask entries as not offloaded', () => {
    const p = pointForSet(outcomes, [true]);
    expect(p.offloaded).toBe(1);
    // Frame 0 by the cloud (✓) and the edge's 2 and 4.
    expect(p.cascadeTop1).toBeCloseTo(3 / 6, 12);
    expect(p.bytesPerFrame).toBeCloseTo(100 / 6, 9);
  });
});

describe('minOffloadFor', () => {
  const curve = curveByScore(outcomes, score);

  it('returns the first point reaching the target', () => {
    expect(minOffloadFor(curve, 0.5)?.offloaded).toBe(0);
    expect(minOffloadFor(curve, 0.6)?.offloaded).toBe(1);
    expect(minOffloadFor(curve, 0.8)?.offloaded).toBe(2);
    expect(minOffloadFor(curve, 5 / 6)?.offloaded).toBe(2);
  });

  it('tolerates floating-point error but no more', () => {
    expect(minOffloadFor(curve, 5 / 6 + 1e-13)?.offloaded).toBe(2);
    expect(minOffloadFor(curve, 5 / 6 + 1e-9)).toBeNull();
  });

  it('returns null when no point reaches the target', () => {
    expect(minOffloadFor(curve, 0.9)).toBeNull();
    expect(minOffloadFor([], 0)).toBeNull();
  });
});

describe('oracleMask', () => {
  it('offloads exactly the frames where the edge is wrong and the cloud right', () => {
    expect(oracleMask(outcomes)).toEqual([false, true, false, false, false, true]);
  });

  it('reaches the best top-1 of any set with the fewest offloads', () => {
    const p = pointForSet(outcomes, oracleMask(outcomes));
    expect(p.offloaded).toBe(2);
    expect(p.cascadeTop1).toBeCloseTo(5 / 6, 12);
    expect(p.bytesPerFrame).toBeCloseTo((200 + 600) / 6, 9);
    // Over all 64 subsets of the six frames: none does better, and none as well with fewer.
    let best = 0;
    let fewest = Number.POSITIVE_INFINITY;
    for (let m = 0; m < 64; m++) {
      const q = pointForSet(
        outcomes,
        outcomes.map((_, i) => ((m >> i) & 1) === 1),
      );
      if (q.cascadeTop1 > best + 1e-12) [best, fewest] = [q.cascadeTop1, q.offloaded];
      else if (Math.abs(q.cascadeTop1 - best) <= 1e-12) fewest = Math.min(fewest, q.offloaded);
    }
    expect(p.cascadeTop1).toBeCloseTo(best, 12);
    expect(p.offloaded).toBe(fewest);
  });
});
