// Random values the text and envelope cases are made of: wrong-typed JSON values, Unicode from
// every plane, odd keys, random JSON, byte flips, and the messages they start from.
import { PROTOCOL_VERSION } from '@squeezegate/shared';
import { randomInt } from '../../support/prng.ts';
import { FUZZ_DEVICE, pick, type Rng } from './plan.ts';

export const hello = (over: Record<string, unknown> = {}) => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  deviceId: FUZZ_DEVICE.id,
  token: FUZZ_DEVICE.token,
  ...over,
});

export const WRONG_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  '',
  '1',
  'hello',
  [],
  [1],
  {},
  { a: 1 },
];

/** Unicode from every plane, multi-byte and combining characters included. */
export function unicode(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng();
    const cp =
      r < 0.4
        ? 0x20 + randomInt(rng, 0x5f)
        : r < 0.7
          ? 0xa0 + randomInt(rng, 0x700)
          : r < 0.9
            ? 0x3000 + randomInt(rng, 0x6000)
            : 0x1f300 + randomInt(rng, 0x300);
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** An extra key: plain, long, multi-byte or prototype-ish. */
export function extraKey(rng: Rng): string {
  return pick(rng, [
    () => `x${randomInt(rng, 1000)}`,
    () => 'k'.repeat(1 + randomInt(rng, 3000)),
    () => unicode(rng, 1 + randomInt(rng, 200)),
    () => 'é'.repeat(40 + randomInt(rng, 100)),
    () => pick(rng, ['__proto__', 'constructor', 'prototype', 'toString', '']),
  ])();
}

export function randomJson(rng: Rng, depth: number): string {
  const value = (d: number): unknown => {
    const r = rng();
    if (d <= 0 || r < 0.4) return pick(rng, WRONG_VALUES);
    if (r < 0.7) return Array.from({ length: randomInt(rng, 4) }, () => value(d - 1));
    return Object.fromEntries(Array.from({ length: randomInt(rng, 4) }, () => [extraKey(rng), value(d - 1)]));
  };
  return JSON.stringify(value(depth));
}

/** Flips 1–n random bytes. */
export function flip(rng: Rng, data: Buffer, n: number, from = 0): Buffer {
  const out = Buffer.from(data);
  const count = 1 + randomInt(rng, n);
  for (let i = 0; i < count && out.length > from; i++)
    out[from + randomInt(rng, out.length - from)]! ^= 1 + randomInt(rng, 255);
  return out;
}

export const statsMsg = () => ({
  type: 'stats',
  frames: 10,
  offloaded: 3,
  capturedBytes: 1000,
  sentBytes: 300,
});
