import {
  ClientTextMessageSchema,
  PolicyMessageSchema,
  parseJsonMessage,
  ServerMessageSchema,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const valid = {
  type: 'policy',
  seq: 3,
  measure: 'maxProb',
  threshold: 0.42,
  ttlMs: 5000,
  reason: 'fleet 41.8/40 fps',
};

describe('policy message (fleet offload bar)', () => {
  it.each([
    ['a bar', valid],
    ['a lifted bar', { ...valid, threshold: null }],
    ['a bar on the calibrated measure', { ...valid, measure: 'calibrated', threshold: 0 }],
  ])('accepts %s', (_, msg) => {
    const parsed = parseJsonMessage(ServerMessageSchema, JSON.stringify(msg));
    expect(parsed).toEqual({ ok: true, value: msg });
  });

  it.each([
    ['a bar above 1', { ...valid, threshold: 1.5 }, 'threshold'],
    ['a negative sequence', { ...valid, seq: -1 }, 'seq'],
    ['an unknown measure', { ...valid, measure: 'vibes' }, 'measure'],
    ['no time-to-live', { ...valid, ttlMs: undefined }, 'ttlMs'],
    ['a zero time-to-live', { ...valid, ttlMs: 0 }, 'ttlMs'],
    ['an unknown key', { ...valid, budget: 40 }, 'budget'],
    ['a missing threshold', { ...valid, threshold: undefined }, 'threshold'],
  ])('refuses %s, naming the field', (_, msg, field) => {
    const parsed = parseJsonMessage(PolicyMessageSchema, JSON.stringify(msg));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(field);
  });

  it('is a server message an agent can tell from a result', () => {
    const parsed = parseJsonMessage(ServerMessageSchema, JSON.stringify(valid));
    expect(parsed.ok && parsed.value.type).toBe('policy');
  });
});

describe('policy message direction', () => {
  it('is not something an agent may send: the gateway reads it as a bad message', () => {
    const parsed = parseJsonMessage(ClientTextMessageSchema, JSON.stringify(valid));
    expect(parsed.ok).toBe(false);
  });
});
