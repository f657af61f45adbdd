import {
  auditFaces,
  binOf,
  emptyTally,
  type FoundFace,
  meetsTargets,
  tally,
  WIDTH_BINS,
} from '@squeezegate/edge';
import type { Box } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const f = (box: Box, score = 0.9): FoundFace => ({ box, score });

describe('auditFaces', () => {
  it('counts a face as leaked when an auditor still finds it after redaction', () => {
    const faces = auditFaces(
      new Map([
        [
          'a',
          {
            before: [f([0, 0, 20, 20]), f([100, 100, 140, 140])],
            // The first face still there (shifted a little); the second gone; a new box elsewhere.
            after: [f([2, 1, 21, 20]), f([200, 0, 220, 20])],
          },
        ],
      ]),
      0.3,
    );
    expect(faces.map((x) => [x.width, x.foundBy, x.stillFoundBy])).toEqual([
      [20, ['a'], ['a']],
      [40, ['a'], []],
    ]);
    expect(faces[0]!.after).toEqual([2, 1, 21, 20]);
  });

  it('merges the auditors: one face found by two, leaked when either still finds it', () => {
    const faces = auditFaces(
      new Map([
        ['a', { before: [f([0, 0, 30, 30], 0.7)], after: [] }],
        ['b', { before: [f([2, 2, 32, 32], 0.95), f([50, 50, 60, 60])], after: [f([3, 3, 31, 31])] }],
      ]),
      0.3,
    );
    expect(faces).toHaveLength(2);
    // The box of the highest-scored auditor stands for the face.
    expect(faces[0]).toMatchObject({ box: [2, 2, 32, 32], foundBy: ['b', 'a'], stillFoundBy: ['b'] });
    expect(faces[1]).toMatchObject({ foundBy: ['b'], stillFoundBy: [] });
  });

  it('does not count a box found after over a face another auditor found', () => {
    const faces = auditFaces(
      new Map([
        ['a', { before: [f([0, 0, 30, 30])], after: [] }],
        ['b', { before: [], after: [f([0, 0, 30, 30])] }],
      ]),
      0.3,
    );
    expect(faces.map((x) => x.stillFoundBy)).toEqual([[]]);
  });
});

describe('tally and the targets', () => {
  it('bins faces by width: < 16, 16–32, 32–64, ≥ 64', () => {
    expect(WIDTH_BINS.map((b) => b.label)).toEqual(['< 16 px', '16–32 px', '32–64 px', '≥ 64 px']);
    expect([0, 15.9, 16, 31.9, 32, 63.9, 64, 500].map(binOf)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('splits at 24 px: no leak at or above, at most 2 % below', () => {
    const small = (n: number, leaked: number) =>
      Array.from({ length: n }, (_, i) => ({ width: 10, stillFoundBy: i < leaked ? ['a'] : [] }));
    const t = tally(emptyTally(), [...small(100, 2), { width: 24, stillFoundBy: [] }]);
    expect(t).toMatchObject({
      faces: 101,
      leaked: 2,
      large: { faces: 1, leaked: 0 },
      small: { faces: 100, leaked: 2 },
    });
    expect(t.bins.map((b) => [b.faces, b.leaked])).toEqual([
      [100, 2],
      [1, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(meetsTargets(t)).toBe(true);
    expect(meetsTargets(tally(emptyTally(), small(100, 3)))).toBe(false);
    expect(meetsTargets(tally(emptyTally(), [{ width: 24, stillFoundBy: ['a'] }]))).toBe(false);
    expect(meetsTargets(emptyTally())).toBe(true);
  });
});
