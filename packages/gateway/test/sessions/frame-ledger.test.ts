import { createFrameLedger, type FrameClaim } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

const settle = (claim: FrameClaim, answer: string, remember = true) => {
  if (claim.kind !== 'new') throw new Error(`expected a new frame, got ${claim.kind}`);
  claim.settle(answer, { remember });
};

describe('frame ledger', () => {
  it('answers a repeat of a settled frame with its answer, and of a pending one with a promise of it', async () => {
    const ledger = createFrameLedger({ perDevice: 8 });
    const first = ledger.claim('cam-1', 'f-1', 'x');
    expect(first.kind).toBe('new');
    const repeat = ledger.claim('cam-1', 'f-1', 'x');
    expect(repeat.kind).toBe('in-flight');
    settle(first, 'answer-1');
    expect(repeat.kind === 'in-flight' && (await repeat.answer)).toBe('answer-1');
    expect(ledger.claim('cam-1', 'f-1', 'x')).toEqual({ kind: 'answered', answer: 'answer-1' });
    // Other devices, and other bytes under the same id, are other frames.
    expect(ledger.claim('cam-2', 'f-1', 'x').kind).toBe('new');
    expect(ledger.claim('cam-1', 'f-1', 'y').kind).toBe('new');
  });

  it('forgets answers not worth keeping, after giving them to whoever waited', async () => {
    const ledger = createFrameLedger({ perDevice: 8 });
    const first = ledger.claim('cam-1', 'f-1', 'x');
    const waiting = ledger.claim('cam-1', 'f-1', 'x');
    settle(first, 'busy', false);
    expect(waiting.kind === 'in-flight' && (await waiting.answer)).toBe('busy');
    expect(ledger.size('cam-1')).toBe(0);
    expect(ledger.claim('cam-1', 'f-1', 'x').kind).toBe('new');
  });

  it('keeps at most perDevice entries, dropping the least recently used', () => {
    const ledger = createFrameLedger({ perDevice: 2 });
    for (const id of ['f-1', 'f-2']) settle(ledger.claim('cam-1', id, 'x'), id);
    expect(ledger.claim('cam-1', 'f-1', 'x').kind).toBe('answered');
    const evicting = ledger.claim('cam-1', 'f-3', 'x');
    expect(ledger.size('cam-1')).toBe(2);
    expect(ledger.claim('cam-1', 'f-1', 'x').kind).toBe('answered');
    // f-3 is still in flight: an evicted or replaced claim settles its waiters but keeps nothing.
    const f2 = ledger.claim('cam-1', 'f-2', 'x'); // evicted earlier: new again, evicts f-3
    expect(f2.kind).toBe('new');
    settle(evicting, 'f-3');
    expect(ledger.claim('cam-1', 'f-3', 'x').kind).toBe('new');
    ledger.forget('cam-1');
    expect(ledger.size('cam-1')).toBe(0);
  });
});
