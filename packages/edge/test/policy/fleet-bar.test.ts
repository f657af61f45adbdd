import { createFleetBar, createPolicy, underFleetBar } from '@squeezegate/edge';
import type { PolicyMessage } from '@squeezegate/shared';
import { confidences } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const probs = (top: number) => {
  const p = new Float32Array(10).fill((1 - top) / 9);
  p[3] = top;
  return p;
};
const input = (top: number) => ({ probs: probs(top), confidence: confidences(probs(top)) });
const bar = (threshold: number | null, seq = 1, ttlMs = 5000): PolicyMessage => ({
  type: 'policy',
  seq,
  measure: 'maxProb',
  threshold,
  ttlMs,
  reason: 'fleet 40.0/40 fps',
});

describe('the fleet bar over a device policy', () => {
  const own = () => createPolicy({ kind: 'threshold', measure: 'maxProb', threshold: 0.5, temperature: 1 });

  it('decides by the device policy until a bar arrives, then by the bar, and says so', () => {
    const fleet = createFleetBar();
    const policy = underFleetBar(own(), fleet);
    expect(policy.decide(input(0.4), 0)).toMatchObject({ kind: 'offload', policy: 'threshold' });
    expect(policy.decide(input(0.4), 0)).not.toHaveProperty('fleet');
    expect(fleet.apply(bar(0.3, 7), 0)).toBe(true);
    const held = policy.decide(input(0.4), 10);
    expect(held).toMatchObject({ kind: 'local', threshold: 0.3, fleet: { seq: 7 } });
    expect(held.reason).toMatch(/^fleet bar: maxProb 0\.400 >= 0\.300/);
    expect(policy.decide(input(0.2), 10)).toMatchObject({ kind: 'offload', fleet: { seq: 7 } });
    // A higher bar than the device's own: frames it would keep now go.
    fleet.apply(bar(0.8, 8), 20);
    expect(policy.decide(input(0.7), 20)).toMatchObject({ kind: 'offload', threshold: 0.8 });
  });

  it('ignores an older bar, hands back on null and on expiry', () => {
    const fleet = createFleetBar();
    const policy = underFleetBar(own(), fleet);
    fleet.apply(bar(0.3, 5), 0);
    expect(fleet.apply(bar(0.9, 4), 1)).toBe(false);
    expect(fleet.active(1)?.threshold).toBe(0.3);
    fleet.apply(bar(null, 6), 2);
    expect(fleet.active(2)).toBeNull();
    expect(policy.decide(input(0.4), 2)).toMatchObject({ kind: 'offload', policy: 'threshold' });
    fleet.apply(bar(0.1, 9, 1000), 100);
    expect(policy.decide(input(0.4), 500)).toMatchObject({ kind: 'local', fleet: { seq: 9 } });
    expect(policy.decide(input(0.4), 1100)).not.toHaveProperty('fleet');
    // After expiry a bar from a gateway that started its count afresh is taken.
    expect(fleet.apply(bar(0.2, 0), 1200)).toBe(true);
  });

  it('tells the device policy only of the bytes it decided to send', () => {
    const spent: number[] = [];
    const base = own();
    const fleet = createFleetBar();
    const policy = underFleetBar({ ...base, spent: (b) => spent.push(b) }, fleet);
    policy.decide(input(0.1), 0); // own decides: offload
    fleet.apply(bar(0.5), 0);
    policy.decide(input(0.1), 0); // bar decides: offload
    policy.spent(100);
    policy.spent(200);
    expect(spent).toEqual([100]);
  });
});
