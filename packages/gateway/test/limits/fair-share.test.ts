import { createFairShare, type FairShareSlot } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

/** Takes up to `n` slots for a device; the ones granted. */
const takeN = (fair: ReturnType<typeof createFairShare>, device: string, n: number) =>
  Array.from({ length: n }, () => fair.take(device)).filter((s): s is FairShareSlot => s !== null);

describe('fair share of the inference queue', () => {
  it('lets a device alone use the whole queue', () => {
    const fair = createFairShare({ capacity: 16, devices: () => 1 });
    expect(takeN(fair, 'cam-1', 20)).toHaveLength(16);
    expect(fair.stats()).toEqual({ held: 16, refused: 4 });
  });

  it('keeps room for every device under its share, however much another sends', () => {
    const fair = createFairShare({ capacity: 16, devices: () => 4 });
    // half = 8, share = floor(8 / 4) = 2: the greedy device gets the first half, then only what
    // leaves each of the three others its two.
    expect(fair.share()).toBe(2);
    const greedy = takeN(fair, 'greedy', 100);
    expect(greedy).toHaveLength(16 - 3 * 2);
    for (const honest of ['a', 'b', 'c']) expect(takeN(fair, honest, 2), honest).toHaveLength(2);
    expect(fair.stats().held).toBe(16);
    // At its share, an honest device borrows no more than the greedy one: the queue is full.
    expect(fair.take('a')).toBeNull();
  });

  it('a released slot goes back to the device that held it; release is idempotent', () => {
    const fair = createFairShare({ capacity: 8, devices: () => 2 });
    // half = 4, share = 2.
    const greedy = takeN(fair, 'greedy', 10);
    expect(greedy).toHaveLength(6);
    const honest = takeN(fair, 'honest', 3);
    expect(honest).toHaveLength(2);
    honest[0]!.release();
    honest[0]!.release();
    expect(fair.stats().held).toBe(7);
    expect(fair.take('greedy')).toBeNull();
    expect(fair.take('honest')).not.toBeNull();
    for (const s of greedy) s.release();
    expect(fair.stats().held).toBe(2);
    // Below half again: anyone is taken.
    expect(takeN(fair, 'greedy', 2)).toHaveLength(2);
  });

  it('a quiet fleet does not cap a busy device below half the queue', () => {
    // 200 devices connected, one sending: share = 1, yet it may hold half the queue.
    const fair = createFairShare({ capacity: 64, devices: () => 200 });
    expect(fair.share()).toBe(1);
    expect(takeN(fair, 'busy', 100)).toHaveLength(32);
    // Every other device still gets its one frame.
    expect(takeN(fair, 'cam-2', 3)).toHaveLength(1);
  });
});
