import type { Box } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { offloadDue, type SentCrop } from '../../src/temporal/offload-rule.ts';
import { createTracker, type Track } from '../../src/temporal/tracker.ts';

const band = { low: 0.3, high: 0.7 };
const box = (cx: number, cy: number, w = 40, h = 80): Box => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];

function track(over: Partial<Track> = {}): Track {
  const b = box(100, 100);
  return {
    id: 1,
    label: 'dog',
    box: b,
    estimate: b,
    score: 0.5,
    topScore: 0.5,
    bestFrame: { seq: 3, atMs: 600, score: 0.5, box: b },
    hits: 3,
    age: 3,
    missed: 0,
    confirmed: true,
    firstSeq: 0,
    lastSeq: 3,
    firstSeenMs: 0,
    lastSeenMs: 600,
    ...over,
  };
}

describe('offload rule', () => {
  it('sends one crop from the best frame of a confirmed uncertain track, then holds', () => {
    const first = offloadDue(track({ score: 0.4 }), undefined, { band });
    expect(first).toEqual({
      kind: 'send',
      reason: 'first',
      frame: { seq: 3, atMs: 600, score: 0.5, box: box(100, 100) },
      sent: { label: 'dog', bestScore: 0.5, area: 3200, seq: 3 },
    });
    if (first.kind !== 'send') throw new Error('unreachable');
    expect(offloadDue(track({ lastSeq: 9, score: 0.45 }), first.sent, { band })).toEqual({
      kind: 'hold',
      reason: 'sent',
    });
  });

  it('holds tentative, certain and below-band tracks', () => {
    expect(offloadDue(track({ confirmed: false }), undefined, { band })).toEqual({
      kind: 'hold',
      reason: 'tentative',
    });
    const certain = track({ bestFrame: { seq: 2, atMs: 400, score: 0.7, box: box(100, 100) } });
    expect(offloadDue(certain, undefined, { band })).toEqual({ kind: 'hold', reason: 'certain' });
    const faint = track({ bestFrame: { seq: 2, atMs: 400, score: 0.2, box: box(100, 100) } });
    expect(offloadDue(faint, undefined, { band })).toEqual({ kind: 'hold', reason: 'below-band' });
  });

  it('sends again on a label change, a doubled or halved box, or a much better score', () => {
    const sent: SentCrop = { label: 'dog', bestScore: 0.5, area: 3200, seq: 3 };
    expect(offloadDue(track({ label: 'cat' }), sent, { band })).toMatchObject({
      kind: 'send',
      reason: 'label',
    });
    const near = track({ box: box(100, 100, 60, 110), lastSeq: 12, lastSeenMs: 2400, score: 0.45 });
    expect(offloadDue(near, sent, { band })).toMatchObject({
      kind: 'send',
      reason: 'appearance',
      frame: { seq: 12, atMs: 2400, score: 0.45 },
      sent: { bestScore: 0.5, area: 6600, seq: 12 },
    });
    const hidden = track({ box: box(100, 100, 40, 40) });
    expect(offloadDue(hidden, sent, { band })).toMatchObject({ kind: 'send', reason: 'appearance' });
    const slightly = track({ box: box(100, 100, 50, 90) });
    expect(offloadDue(slightly, sent, { band })).toEqual({ kind: 'hold', reason: 'sent' });
    const better = track({ bestFrame: { seq: 8, atMs: 1600, score: 0.66, box: box(100, 100) } });
    expect(offloadDue(better, sent, { band })).toMatchObject({
      kind: 'send',
      reason: 'score',
      frame: { seq: 8 },
    });
    const bitBetter = track({ bestFrame: { seq: 8, atMs: 1600, score: 0.6, box: box(100, 100) } });
    expect(offloadDue(bitBetter, sent, { band })).toEqual({ kind: 'hold', reason: 'sent' });
  });

  it('over a tracked sequence: one crop for a lingering uncertain object, one more when its class flips', () => {
    const tracker = createTracker({ relabelIou: 0.6 });
    const sent = new Map<number, SentCrop>();
    const sends: { seq: number; reason: string; frameSeq: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const label = i < 20 ? 'dog' : 'cat';
      const score = 0.4 + 0.1 * Math.sin(i); // 0.3..0.5, always uncertain
      const u = tracker.update({
        seq: i,
        atMs: i * 200,
        detections: [{ box: box(100 + i, 100), label, score }],
      });
      for (const t of u.tracks) {
        const d = offloadDue(t, sent.get(t.id), { band });
        if (d.kind === 'send') {
          sent.set(t.id, d.sent);
          sends.push({ seq: i, reason: d.reason, frameSeq: d.frame.seq });
        }
      }
    }
    expect(sends.map((s) => s.reason)).toEqual(['first', 'label']);
    // Confirmed at frame 2 (minHits 3): its best frame among 0..2 is frame 2 (sin 2 > sin 1 > sin 0).
    expect(sends[0]).toEqual({ seq: 2, reason: 'first', frameSeq: 2 });
    expect(sends[1]!.seq).toBe(20);
  });
});
