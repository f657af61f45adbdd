import { createFrameRateLimiter } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

describe('frame rate limiter', () => {
  it('lets a burst of one second through, then the sustained rate, per device', () => {
    let now = 0;
    const limiter = createFrameRateLimiter({ perSecond: 4, now: () => now });
    const takes = (device: string, n: number) => Array.from({ length: n }, () => limiter.take(device));
    expect(takes('cam-1', 5)).toEqual([true, true, true, true, false]);
    expect(takes('cam-2', 1)).toEqual([true]);
    now += 250; // a quarter second: one frame's worth
    expect(takes('cam-1', 2)).toEqual([true, false]);
    now += 10_000; // never more than the burst, however long the quiet
    expect(takes('cam-1', 5)).toEqual([true, true, true, true, false]);
    expect(limiter.perSecond).toBe(4);
  });

  it('allows fractional rates, at least one frame at a time, and forgets a device', () => {
    let now = 0;
    const limiter = createFrameRateLimiter({ perSecond: 0.5, now: () => now });
    expect([limiter.take('cam-1'), limiter.take('cam-1')]).toEqual([true, false]);
    now += 1000;
    expect(limiter.take('cam-1')).toBe(false);
    now += 1000;
    expect(limiter.take('cam-1')).toBe(true);
    limiter.forget('cam-1');
    expect(limiter.take('cam-1')).toBe(true);
  });

  it('without a rate lets everything through', () => {
    const limiter = createFrameRateLimiter({ perSecond: undefined });
    expect(limiter.perSecond).toBeNull();
    expect(Array.from({ length: 1000 }, () => limiter.take('cam-1')).every(Boolean)).toBe(true);
  });
});
