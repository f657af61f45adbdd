import type { Box } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { boxOf, correct, createBoxFilter, predict } from '../../src/temporal/kalman.ts';
import { createTracker, type TrackInput } from '../../src/temporal/tracker.ts';

const box = (cx: number, cy: number, w = 40, h = 80): Box => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
const person = (cx: number, cy: number, score = 0.8): TrackInput => ({
  box: box(cx, cy),
  label: 'person',
  score,
});

describe('box Kalman filter', () => {
  it('learns a constant velocity and extrapolates it', () => {
    const f = createBoxFilter(box(100, 100));
    for (let i = 1; i <= 10; i++) {
      predict(f);
      correct(f, box(100 + 10 * i, 100 + 2 * i));
    }
    predict(f);
    const [x1, y1, x2, y2] = boxOf(f);
    expect((x1 + x2) / 2).toBeCloseTo(210, 0);
    expect((y1 + y2) / 2).toBeCloseTo(122, 0);
    expect(x2 - x1).toBeCloseTo(40, 0);
    expect(y2 - y1).toBeCloseTo(80, 0);
  });
});

describe('tracker', () => {
  it('keeps one id for a moving object, confirms it after minHits and records its best frame', () => {
    const tracker = createTracker({ minHits: 3 });
    const ids = new Set<number>();
    const scores = [0.5, 0.6, 0.9, 0.7, 0.6];
    scores.forEach((score, i) => {
      const u = tracker.update({ seq: i, atMs: i * 200, detections: [person(100 + 15 * i, 200, score)] });
      expect(u.tracks).toHaveLength(1);
      ids.add(u.tracks[0]!.id);
      expect(u.assignments).toEqual([u.tracks[0]!.id]);
      expect(u.tracks[0]!.confirmed).toBe(i >= 2);
      expect(u.confirmed.map((t) => t.id)).toEqual(i === 2 ? [u.tracks[0]!.id] : []);
    });
    expect(ids.size).toBe(1);
    const [t] = tracker.tracks;
    expect(t).toMatchObject({
      hits: 5,
      age: 4,
      missed: 0,
      topScore: 0.9,
      score: 0.6,
      firstSeq: 0,
      lastSeq: 4,
    });
    expect(t!.bestFrame).toEqual({ seq: 2, atMs: 400, score: 0.9, box: box(130, 200) });
    expect([t!.firstSeenMs, t!.lastSeenMs]).toEqual([0, 800]);
  });

  it('keeps the id through a short occlusion (the Kalman prediction carries the box)', () => {
    const tracker = createTracker();
    const seen: number[][] = [];
    for (let i = 0; i < 16; i++) {
      const hidden = i >= 7 && i <= 9;
      const detections = hidden ? [] : [person(100 + 20 * i, 200)];
      const u = tracker.update({ seq: i, atMs: i * 200, detections });
      seen.push(u.assignments);
      if (hidden) expect(u.tracks[0]).toMatchObject({ missed: i - 6 });
    }
    const ids = new Set(seen.flat());
    expect(ids).toEqual(new Set([1]));
    // Back at frame 10, 60 px from where it was last seen: the plain IoU with its last box is 0.
    expect(tracker.tracks[0]).toMatchObject({ id: 1, hits: 13, missed: 0 });
  });

  it('keeps the ids of two objects of the same class that cross', () => {
    const tracker = createTracker();
    const idsA = new Set<number>();
    const idsB = new Set<number>();
    for (let i = 0; i < 20; i++) {
      // A walks right, B walks left; they overlap for several frames around i = 10.
      const a = person(100 + 10 * i, 200, 0.8);
      const b = person(300 - 10 * i, 230, 0.7);
      const u = tracker.update({ seq: i, atMs: i * 200, detections: [a, b] });
      idsA.add(u.assignments[0]!);
      idsB.add(u.assignments[1]!);
    }
    expect([...idsA]).toEqual([1]);
    expect([...idsB]).toEqual([2]);
  });

  it('ends a confirmed track after more than maxAge missed updates, and by time with expire()', () => {
    const tracker = createTracker({ maxAge: 3, maxAgeMs: 60_000 });
    for (let i = 0; i < 4; i++) tracker.update({ seq: i, atMs: i * 200, detections: [person(100, 200)] });
    const missed = [4, 5, 6, 7].map((i) => tracker.update({ seq: i, atMs: i * 200, detections: [] }));
    expect(missed.map((u) => u.ended.length)).toEqual([0, 0, 0, 1]);
    expect(missed[3]!.ended[0]).toMatchObject({ id: 1, missed: 4, lastSeq: 3, lastSeenMs: 600 });
    expect(tracker.tracks).toEqual([]);

    const timed = createTracker({ maxAgeMs: 1_000 });
    for (let i = 0; i < 4; i++) timed.update({ seq: i, atMs: i * 200, detections: [person(100, 200)] });
    // The gate reuses frames: no detector run, only time passes.
    expect(timed.expire(1_500)).toEqual([]);
    const gone = timed.expire(1_700);
    expect(gone.map((t) => t.id)).toEqual([1]);
    expect(timed.tracks).toEqual([]);
  });

  it('drops a tentative track at its first miss and reports pending while one is open', () => {
    const tracker = createTracker({ minHits: 3 });
    const u0 = tracker.update({ seq: 0, atMs: 0, detections: [person(100, 200)] });
    expect(u0.started.map((t) => t.id)).toEqual([1]);
    expect(tracker.pending).toBe(true);
    const u1 = tracker.update({ seq: 1, atMs: 200, detections: [] });
    expect(u1.ended.map((t) => [t.id, t.confirmed])).toEqual([[1, false]]);
    expect(tracker.pending).toBe(false);
  });

  it('associates per class: a detection never joins a track of another label unless relabelIou allows it', () => {
    const strict = createTracker({ minHits: 1 });
    strict.update({ seq: 0, atMs: 0, detections: [{ box: box(100, 100), label: 'car', score: 0.6 }] });
    const u = strict.update({
      seq: 1,
      atMs: 200,
      detections: [{ box: box(101, 100), label: 'truck', score: 0.5 }],
    });
    expect(u.assignments).toEqual([2]);
    expect(u.tracks.map((t) => [t.id, t.label])).toEqual([
      [1, 'car'],
      [2, 'truck'],
    ]);

    const relabel = createTracker({ minHits: 1, relabelIou: 0.7 });
    relabel.update({ seq: 0, atMs: 0, detections: [{ box: box(100, 100), label: 'car', score: 0.6 }] });
    const r = relabel.update({
      seq: 1,
      atMs: 200,
      detections: [{ box: box(101, 100), label: 'truck', score: 0.5 }],
    });
    expect(r.assignments).toEqual([1]);
    // A new label restarts the best frame: the crop must show the object as a truck.
    expect(r.tracks[0]).toMatchObject({
      id: 1,
      label: 'truck',
      topScore: 0.5,
      bestFrame: { seq: 1, score: 0.5 },
    });
  });

  it('matches the best overlaps first when several detections compete for one track', () => {
    const tracker = createTracker({ minHits: 1 });
    tracker.update({ seq: 0, atMs: 0, detections: [person(100, 200)] });
    const u = tracker.update({ seq: 1, atMs: 200, detections: [person(130, 200), person(102, 200)] });
    expect(u.assignments).toEqual([2, 1]);
  });
});
