import { backoffCeilingMs, createBusyHold, fullJitterMs, planReconnect } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';

const bounds = { baseMs: 50, maxMs: 2000 };
/** A random source that plays back the given draws. */
const draws = (...values: number[]) => {
  let k = 0;
  return () => values[k++ % values.length]!;
};

describe('backoff ceiling and full jitter', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40, 2000].map((n) => backoffCeilingMs(bounds, n))).toEqual([
      50, 100, 200, 400, 800, 1600, 2000, 2000, 2000,
    ]);
  });

  it('draws uniformly in [0, ceiling): the random source scales the whole window', () => {
    expect(fullJitterMs(bounds, 3, () => 0)).toBe(0);
    expect(fullJitterMs(bounds, 3, () => 0.5)).toBe(200);
    expect(fullJitterMs(bounds, 3, () => 0.999)).toBeCloseTo(399.6, 6);
    expect(fullJitterMs(bounds, 10, () => 0.25)).toBe(500);
  });
});

describe('planReconnect: the next gateway, round robin', () => {
  it('with one gateway, is the single-gateway backoff (equal jitter, doubling per failure)', () => {
    const plans = [0, 1, 2, 3, 9].map((failures) =>
      planReconnect({
        gateways: 1,
        current: 0,
        failures,
        bounds: { baseMs: 250, maxMs: 10_000 },
        random: () => 1,
      }),
    );
    expect(plans).toEqual([
      { index: 0, delayMs: 250 },
      { index: 0, delayMs: 500 },
      { index: 0, delayMs: 1000 },
      { index: 0, delayMs: 2000 },
      { index: 0, delayMs: 10_000 },
    ]);
    // Equal jitter: half the ceiling is fixed, so a gateway refusing at once is not hammered.
    expect(planReconnect({ gateways: 1, current: 0, failures: 2, bounds, random: () => 0 }).delayMs).toBe(
      100,
    );
  });

  it('moves to the next gateway after every failure and wraps around', () => {
    let current = 0;
    const visited: number[] = [];
    for (let failures = 0; failures < 7; failures++) {
      current = planReconnect({ gateways: 3, current, failures, bounds, random: () => 1 }).index;
      visited.push(current);
    }
    expect(visited).toEqual([1, 2, 0, 1, 2, 0, 1]);
  });

  it('grows the backoff once per full round of the list, not once per gateway', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map(
      (failures) => planReconnect({ gateways: 3, current: 0, failures, bounds, random: () => 1 }).delayMs,
    );
    expect(delays).toEqual([50, 50, 50, 100, 100, 100, 200]);
  });
});

describe('createBusyHold', () => {
  const make = (random: () => number) => {
    let t = 1000;
    let released = 0;
    const hold = createBusyHold({ bounds, random, onRelease: () => released++, now: () => t });
    return {
      hold,
      advance: (ms: number) => {
        t += ms;
      },
      released: () => released,
    };
  };

  it('holds for a full-jitter draw that doubles with each backoff in a streak', () => {
    const { hold, advance } = make(() => 1);
    expect(hold.holding()).toBe(false);
    const held: (number | null)[] = [];
    for (let k = 0; k < 7; k++) {
      held.push(hold.busy(hold.epoch));
      expect(hold.holding()).toBe(true);
      advance(5000);
      expect(hold.holding()).toBe(false);
    }
    expect(held).toEqual([50, 100, 200, 400, 800, 1600, 2000]);
    hold.close();
  });

  it('counts one backoff per overload: frames sent before the hold was drawn do not grow it', () => {
    const { hold } = make(draws(0.5));
    const epoch = hold.epoch;
    // Eight frames in flight together, all shed: one hold, drawn by the first BUSY.
    const held = Array.from({ length: 8 }, () => hold.busy(epoch));
    expect(held).toEqual([25, null, null, null, null, null, null, null]);
    expect(hold.streak).toBe(1);
    // A frame sent after that hold is shed again: the next step doubles the window.
    expect(hold.busy(hold.epoch)).toBe(50);
    expect(hold.streak).toBe(2);
    hold.close();
  });

  it('starts again from the base once the gateway answers', () => {
    const { hold } = make(() => 1);
    hold.busy(hold.epoch);
    hold.busy(hold.epoch);
    hold.busy(hold.epoch);
    expect(hold.streak).toBe(3);
    hold.answered();
    expect(hold.streak).toBe(0);
    expect(hold.busy(hold.epoch)).toBe(50);
    hold.close();
  });

  it('releases the waiting frames when the hold ends, on a real timer', async () => {
    const released: number[] = [];
    const hold = createBusyHold({
      bounds: { baseMs: 20, maxMs: 20 },
      random: () => 1,
      onRelease: () => released.push(1),
    });
    hold.busy(hold.epoch);
    expect(hold.holding()).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(released).toEqual([1]);
    expect(hold.holding()).toBe(false);
    hold.close();
  });
});
