// Text messages: malformed hellos (the first message of a connection), garbage after the hello,
// and stats reports, valid or mutated.
import { randomBytes, randomInt } from '../../support/prng.ts';
import { headerJson } from './envelope.ts';
import { FUZZ_DEVICE, HONEST_DEVICE, type Named, pick, type Rng } from './plan.ts';
import { extraKey, flip, hello, randomJson, statsMsg, unicode, WRONG_VALUES } from './values.ts';

export function malformedHello(rng: Rng): Named {
  const json = (note: string, v: unknown): Named => [note, Buffer.from(JSON.stringify(v))];
  const fields = ['type', 'protocol', 'deviceId', 'token', 'agent'] as const;
  const family = randomInt(rng, 12);
  switch (family) {
    case 0:
      return json('wrong type', hello({ [pick(rng, fields)]: pick(rng, WRONG_VALUES) }));
    case 1: {
      const h: Record<string, unknown> = hello();
      for (const f of fields) if (rng() < 0.35) delete h[f];
      return json('missing fields', h);
    }
    case 2: {
      const h: Record<string, unknown> = hello();
      const n = rng() < 0.1 ? 100 + randomInt(rng, 2000) : 1 + randomInt(rng, 3);
      for (let i = 0; i < n; i++)
        h[rng() < 0.5 && n > 50 ? `k${i}` : extraKey(rng)] = pick(rng, WRONG_VALUES);
      return json(`extra keys (${n})`, h);
    }
    case 3: {
      const f = pick(rng, ['deviceId', 'token', 'agent'] as const);
      const n = pick(rng, [65, 101, 513, 10_000, 100_000, 300_000]);
      return json(`huge ${f} (${n})`, hello({ [f]: pick(rng, ['a', 'é', '🦀', '-']).repeat(n) }));
    }
    case 4:
      return json(
        'wrong protocol',
        hello({ protocol: pick(rng, [0, 2, 3, 99, -1, 1.0001, 2 ** 31, 2 ** 53 + 2, 1e308]) }),
      );
    case 5:
      return json(
        'unknown device',
        hello({ deviceId: pick(rng, ['cam-1', 'honest-2', 'fuzz-2', 'a', 'A'.repeat(64)]) }),
      );
    case 6:
      return json(
        'wrong token',
        hello({
          token: pick(rng, [
            FUZZ_DEVICE.token.slice(0, -1),
            `${FUZZ_DEVICE.token}x`,
            FUZZ_DEVICE.token.toUpperCase(),
            HONEST_DEVICE.token,
            unicode(rng, 20),
            ' ',
          ]),
        }),
      );
    case 7: {
      const good = Buffer.from(JSON.stringify(hello()));
      return ['truncated hello', good.subarray(0, randomInt(rng, good.length))];
    }
    case 8:
      return ['byte-flipped hello', flip(rng, Buffer.from(JSON.stringify(hello())), 4)];
    case 9:
      return ['not an object', Buffer.from(randomJson(rng, 3))];
    case 10:
      return pick(rng, [
        (): Named => ['deep array', Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)],
        (): Named => ['duplicate keys', Buffer.from(`{"type":"hello","type":"stats","protocol":1}`)],
        (): Named => ['stats first', Buffer.from(JSON.stringify(statsMsg()))],
        (): Named => ['JSON with BOM', Buffer.from(`\ufeff${JSON.stringify(hello())}`)],
        (): Named => [
          'NaN protocol',
          Buffer.from(JSON.stringify(hello()).replace('"protocol":1', '"protocol":NaN')),
        ],
      ])();
    default:
      return json(
        'device id outside the alphabet',
        hello({ deviceId: pick(rng, ['cam 1', 'cam/1', '../x', 'é', 'a\u0000b']) }),
      );
  }
}

export function sessionText(rng: Rng): Named {
  return pick(rng, [
    (): Named => ['random bytes as text', randomBytes(rng, 1 + randomInt(rng, 1024))],
    (): Named => ['unicode text', Buffer.from(unicode(rng, 1 + randomInt(rng, 300)))],
    (): Named => ['random JSON', Buffer.from(randomJson(rng, 4))],
    (): Named => ['hello again', Buffer.from(JSON.stringify(hello()))],
    (): Named => ['frame header as text', headerJson(rng, 'as-text')],
    (): Named => ['empty text', Buffer.alloc(0)],
  ])();
}

export function stats(rng: Rng): Named {
  const s: Record<string, unknown> = statsMsg();
  const r = rng();
  if (r < 0.3) return ['valid stats', Buffer.from(JSON.stringify({ ...s, frames: randomInt(rng, 2 ** 31) }))];
  if (r < 0.6) s[pick(rng, Object.keys(s))] = pick(rng, [...WRONG_VALUES, 2 ** 53, -0, 2 ** 60]);
  else if (r < 0.8) s[extraKey(rng)] = 1;
  else return ['byte-flipped stats', flip(rng, Buffer.from(JSON.stringify(s)), 3)];
  return ['mutated stats', Buffer.from(JSON.stringify(s))];
}
