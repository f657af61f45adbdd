// Binary frame envelopes (envelope.ts of the protocol): broken prefixes and mutated headers.
import { type FrameHeader, MAX_HEADER_BYTES } from '@squeezegate/shared';
import { randomBytes, randomInt } from '../../support/prng.ts';
import { type Named, pick, type Rng } from './plan.ts';
import { extraKey, flip, randomJson, unicode, WRONG_VALUES } from './values.ts';

const MAGIC = Buffer.from('SQZF', 'ascii');

/** The envelope of envelope.ts, with every field overridable. */
export function envelope(
  json: Buffer,
  image: Buffer,
  o: { magic?: Buffer; version?: number; length?: number } = {},
): Buffer {
  const prefix = Buffer.alloc(9);
  (o.magic ?? MAGIC).copy(prefix, 0, 0, 4);
  prefix.writeUInt8(o.version ?? 1, 4);
  prefix.writeUInt32BE(o.length ?? json.length, 5);
  return Buffer.concat([prefix, json, image]);
}

export function header0(rng: Rng, frameId: string): FrameHeader {
  return {
    type: 'frame',
    frameId,
    seq: randomInt(rng, 1e6),
    view: pick(rng, ['crop', 'full'] as const),
    mime: pick(rng, ['image/jpeg', 'image/png', 'image/webp'] as const),
    ...(rng() < 0.3 ? { capturedAt: 1_700_000_000_000 + randomInt(rng, 1e9) } : {}),
    ...(rng() < 0.3 ? { local: { index: randomInt(rng, 1000), label: 'local', p: rng() } } : {}),
  };
}

export const headerJson = (rng: Rng, frameId: string) => Buffer.from(JSON.stringify(header0(rng, frameId)));

/** A few bytes that are no image: cheap for the gateway to refuse. */
export const garbage = (rng: Rng) => randomBytes(rng, 1 + randomInt(rng, 64));

export function badPrefix(rng: Rng, id: string): Named {
  const json = headerJson(rng, id);
  const image = garbage(rng);
  return pick(rng, [
    (): Named => ['shorter than the prefix', randomBytes(rng, randomInt(rng, 9))],
    (): Named => [
      'bad magic',
      envelope(json, image, {
        magic: pick(rng, [
          randomBytes(rng, 4),
          Buffer.from('sqzf'),
          Buffer.from('SQZ\0'),
          Buffer.from('FZQS'),
        ]),
      }),
    ],
    (): Named => ['bad version', envelope(json, image, { version: pick(rng, [0, 2, 127, 255]) })],
    (): Named => ['header length 0', envelope(json, image, { length: 0 })],
    (): Named => [
      'header length past the end',
      envelope(json, image, { length: json.length + image.length + 1 + randomInt(rng, 1000) }),
    ],
    (): Named => ['header length 0xFFFFFFFF', envelope(json, image, { length: 0xffffffff })],
    (): Named => ['header length 2^31', envelope(json, image, { length: 0x80000000 })],
    (): Named => [
      'header length over the maximum',
      envelope(Buffer.alloc(MAX_HEADER_BYTES + 1, 0x20), image),
    ],
    (): Named => [
      'header length inside the header',
      envelope(json, image, { length: 1 + randomInt(rng, json.length - 1) }),
    ],
    (): Named => ['no image bytes', envelope(json, Buffer.alloc(0))],
  ])();
}

export function mutatedHeader(rng: Rng, id: string): Named {
  const h: Record<string, unknown> = { ...header0(rng, id) };
  const json = (note: string): Named => [note, Buffer.from(JSON.stringify(h))];
  switch (randomInt(rng, 9)) {
    case 0:
      return ['byte-flipped header', flip(rng, Buffer.from(JSON.stringify(h)), 5)];
    case 1: {
      const full = Buffer.from(JSON.stringify(h));
      return ['truncated header', full.subarray(0, 1 + randomInt(rng, full.length - 1))];
    }
    case 2:
      h[pick(rng, ['type', 'frameId', 'seq', 'view', 'mime', 'capturedAt', 'local'])] = pick(rng, [
        ...WRONG_VALUES,
        'frame2',
        'side',
        'image/gif',
        'image/svg+xml',
        { index: -1, label: 'x', p: 2 },
      ]);
      return json('wrong type');
    case 3:
      h.frameId = pick(rng, [
        '',
        'f'.repeat(128),
        'f'.repeat(129),
        'f'.repeat(1000),
        'f'.repeat(5000),
        `${id}-${unicode(rng, 100)}`,
      ]);
      return json(`frame id of ${String(h.frameId).length}`);
    case 4:
      h[extraKey(rng)] = pick(rng, WRONG_VALUES);
      return json('extra key');
    case 5:
      h.local = { index: 3, label: 'x', p: 0.5, [extraKey(rng)]: 1 };
      return json('extra key in local');
    case 6:
      delete h[pick(rng, ['type', 'frameId', 'seq', 'view', 'mime'])];
      return json('missing field');
    case 7:
      return ['not an object', Buffer.from(randomJson(rng, 3))];
    default:
      h.seq = pick(rng, [-1, 1.5, 2 ** 53, 1e308, Number.MAX_SAFE_INTEGER]);
      return json('odd seq');
  }
}
