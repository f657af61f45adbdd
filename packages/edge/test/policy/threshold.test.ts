import { decide } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';

const conf = { maxProb: 0.42, margin: 0.1, entropy: 0.7 };

describe('threshold policy', () => {
  it('offloads below the threshold on the chosen measure, with the reason', () => {
    expect(decide(conf, { kind: 'threshold', measure: 'maxProb', threshold: 0.5 })).toEqual({
      kind: 'offload',
      reason: 'maxProb 0.420 < 0.5',
      measure: 'maxProb',
      value: 0.42,
      threshold: 0.5,
    });
    expect(decide(conf, { kind: 'threshold', measure: 'entropy', threshold: 0.5 })).toMatchObject({
      kind: 'local',
      reason: 'entropy 0.700 >= 0.5',
    });
    expect(decide(conf, { kind: 'threshold', measure: 'margin', threshold: 0.2 }).kind).toBe('offload');
  });

  it('keeps a frame exactly at the threshold local', () => {
    expect(decide(conf, { kind: 'threshold', measure: 'maxProb', threshold: 0.42 }).kind).toBe('local');
  });
});
