// Deterministic inputs for the gateway fuzz test (fuzz.test.ts): every case is rebuilt from the seed
// and its index alone, so a failure reproduces with `makeCase(SEED, index, …)`.
import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import {
  ClientTextMessageSchema,
  decodeFrame,
  type FrameHeader,
  MAX_HEADER_BYTES,
  PROTOCOL_VERSION,
} from '@squeezegate/shared';
import sharp from 'sharp';
import { mulberry32, randomBytes, randomInt } from '../support/prng.ts';

export const SEED = 0x5eed_f022;
export const MAX_PAYLOAD = 256 * 1024;
export const FUZZ_DEVICE = { id: 'fuzz-1', token: 'fuzz-token-0123456789' } as const;
export const HONEST_DEVICE = { id: 'honest-1', token: 'honest-token-0123456789' } as const;
/** Per-frame answers a frame of any bytes may get; INFERENCE_FAILED would mean a gateway fault. */
export const FRAME_ERRORS = ['IMAGE_UNDECODABLE', 'BUSY', 'RATE_LIMITED'] as const;
const SHED = ['BUSY', 'RATE_LIMITED'] as const;

/** Cases per category: cheap protocol-level ones dominate, image decodes are ~1.5k frames. */
export const PLAN = {
  'prehello-text-bytes': 700,
  'prehello-binary': 600,
  'prehello-unicode': 400,
  'hello-malformed': 2000,
  'hello-valid': 100,
  'session-text': 1000,
  'session-stats': 400,
  'envelope-prefix': 1200,
  'envelope-header': 1500,
  'image-garbage': 1200,
  'image-giant': 90,
  'image-bomb': 10,
  'image-valid': 150,
  'image-burst': 50,
  oversized: 200,
  'ws-frame': 400,
  churn: 500,
} as const;
export type Category = keyof typeof PLAN;
export const BURST = 16;

/** One WebSocket message: text frames may carry invalid UTF-8 on purpose. */
export interface Wire {
  data: Buffer;
  binary: boolean;
}

/** What the gateway may correctly do with a case's input; anything else is a violation. */
export interface Expect {
  /** Each frame id gets its own answer (a result, or an error with one of `errors`), the socket stays up. */
  answers?: { frameIds: readonly string[]; errors: readonly string[]; top1?: number };
  welcome?: true;
  /** No answer and the socket stays up (the runner checks with a probe frame). */
  silent?: true;
  /** An error without frame id with one of these codes, then close 1008. */
  refusal?: readonly string[];
  /** A close with one of these codes, nothing else said (besides a welcome, for raw cases). */
  close?: readonly number[];
  /** The upgrade is answered with one of these HTTP statuses. */
  http?: readonly number[];
}

/** A client speaking raw TCP, for what the ws client will not send. */
export interface RawPlan {
  /** The upgrade request; `partial` sends half of it. */
  request: { path: string; version: string; partial?: boolean; method?: string };
  /** Masked frames (or raw bytes) written after the upgrade, in one write. */
  frames: readonly Buffer[];
  /** `wait`: for the server's close; `destroy`: reset at once; `end`: half-close, the server must close. */
  end: 'wait' | 'destroy' | 'end';
}

export type ChurnPlan =
  | { kind: 'abort-connecting' }
  | { kind: 'idle-terminate'; afterMs: number }
  | { kind: 'close-after-hello' }
  | { kind: 'terminate-mid-send'; frame: Buffer }
  | { kind: 'close-with-frames-in-flight'; frames: readonly Buffer[] };

export type FuzzCase = { index: number; category: Category; note: string } & (
  | { stage: 'fresh' | 'session'; send: readonly Wire[]; expect: Expect }
  | { stage: 'raw'; raw: RawPlan; expect: Expect | null }
  | { stage: 'churn'; churn: ChurnPlan }
);

/** Images the cases cut up: dataset JPEGs, small re-encodings, and crafted giants and bombs. */
export interface Assets {
  tench: Buffer;
  jpegs: readonly Buffer[];
  small: { jpeg: Buffer; png: Buffer; webp: Buffer };
  /** Declaring sizes past the gateway's pixel limit: refused from the header alone. */
  giants: readonly { note: string; bytes: Buffer }[];
  /** Valid images within the pixel limit that cost a decoder hundreds of MB or seconds; some sent several at once. */
  bombs: readonly { note: string; images: readonly Buffer[] }[];
}

type Rng = () => number;
/** An input and what it is, for the report. */
type Named = [note: string, bytes: Buffer];
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
const bin = (data: Buffer): Wire => ({ data, binary: true });

/** The categories in a seeded order, so expensive cases are spread over the run. */
export function schedule(seed: number): Category[] {
  const out = (Object.entries(PLAN) as [Category, number][]).flatMap(([c, n]) => Array<Category>(n).fill(c));
  const rng = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function makeCase(seed: number, index: number, category: Category, assets: Assets): FuzzCase {
  const rng = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const id = `z${index}`;
  const base = { index, category };
  const fresh = (note: string, w: Wire, expect: Expect): FuzzCase => ({
    ...base,
    stage: 'fresh',
    note,
    send: [w],
    expect,
  });
  const session = (note: string, send: Wire[], expect: Expect): FuzzCase => ({
    ...base,
    stage: 'session',
    note,
    send,
    expect,
  });
  /** Frames with valid headers: whatever the image, each gets its own answer. */
  const frames = (note: string, images: readonly Buffer[], errors: readonly string[] = FRAME_ERRORS) => {
    const frameIds = images.length === 1 ? [id] : images.map((_, k) => `${id}.${k}`);
    const send = images.map((image, k) => bin(envelope(headerJson(rng, frameIds[k]!), image)));
    return session(note, send, { answers: { frameIds, errors } });
  };
  switch (category) {
    case 'prehello-text-bytes': {
      const data = randomBytes(rng, 1 + randomInt(rng, 2048));
      return fresh('random bytes as text', { data, binary: false }, expectHello(data));
    }
    case 'prehello-binary': {
      const data =
        rng() < 0.3 ? envelope(headerJson(rng, id), garbage(rng)) : randomBytes(rng, randomInt(rng, 4096));
      return fresh('bytes before hello', bin(data), { refusal: ['NOT_AUTHENTICATED'] });
    }
    case 'prehello-unicode': {
      const data = Buffer.from(rng() < 0.5 ? unicode(rng, 1 + randomInt(rng, 500)) : randomJson(rng, 4));
      return fresh('unicode text before hello', { data, binary: false }, expectHello(data));
    }
    case 'hello-malformed': {
      const [note, data] = malformedHello(rng);
      return fresh(note, { data, binary: false }, expectHello(data));
    }
    case 'hello-valid': {
      const data = Buffer.from(JSON.stringify(hello(rng() < 0.5 ? {} : { agent: unicode(rng, 30) })));
      return fresh('valid hello', { data, binary: false }, expectHello(data));
    }
    case 'session-text':
    case 'session-stats': {
      const [note, data] = category === 'session-text' ? sessionText(rng) : stats(rng);
      return session(note, [{ data, binary: false }], expectSessionText(data));
    }
    case 'envelope-prefix': {
      const [note, data] = badPrefix(rng, id);
      return session(note, [bin(data)], { refusal: ['BAD_MESSAGE'] });
    }
    case 'envelope-header': {
      const [note, json] = mutatedHeader(rng, id);
      const data = envelope(json, rng() < 0.85 ? garbage(rng) : assets.small.jpeg);
      return session(note, [bin(data)], expectFrame(data));
    }
    case 'image-garbage': {
      const [note, image] = garbageImage(rng, assets);
      return frames(note, [image]);
    }
    case 'image-giant': {
      const giant = assets.giants[index % assets.giants.length]!;
      return frames(giant.note, [giant.bytes]);
    }
    case 'image-bomb': {
      const bomb = assets.bombs[index % assets.bombs.length]!;
      return frames(bomb.note, bomb.images);
    }
    case 'image-valid': {
      const tench = rng() < 0.5;
      const header = { ...header0(rng, id), view: 'full' as const };
      const data = envelope(
        Buffer.from(JSON.stringify(header)),
        tench ? assets.tench : pick(rng, assets.jpegs),
      );
      const answers = { frameIds: [id], errors: SHED, ...(tench ? { top1: 0 } : {}) };
      return session(tench ? 'the tench, any claimed mime' : 'a dataset JPEG', [bin(data)], { answers });
    }
    case 'image-burst':
      return frames(
        `${BURST} frames pipelined`,
        Array.from({ length: BURST }, () => garbageImage(rng, assets)[1]),
      );
    case 'oversized':
      return { ...base, ...oversized(rng, id, assets) };
    case 'ws-frame':
      return { ...base, stage: 'raw', ...wsFrameCase(rng) };
    case 'churn':
      return churnCase(rng, base, id, assets);
  }
}

// ---- oracles: what the protocol (messages.ts, envelope.ts) says the gateway must do ----

/** The first text message of a connection. */
export function expectHello(data: Buffer): Expect {
  if (data.length > MAX_PAYLOAD) return { close: [1009] };
  if (!isUtf8(data)) return { close: [1007] };
  const parsed = ClientTextMessageSchema.safeParse(tryJson(data.toString('utf8')));
  if (!parsed.success) return { refusal: ['BAD_MESSAGE'] };
  const m = parsed.data;
  if (m.type !== 'hello') return { refusal: ['NOT_AUTHENTICATED'] };
  if (m.protocol !== PROTOCOL_VERSION) return { refusal: ['PROTOCOL_VERSION'] };
  if (m.deviceId !== FUZZ_DEVICE.id || m.token !== FUZZ_DEVICE.token) return { refusal: ['AUTH_FAILED'] };
  return { welcome: true };
}

/** A text message after the hello: only stats are welcome, and they are not answered. */
export function expectSessionText(data: Buffer): Expect {
  if (data.length > MAX_PAYLOAD) return { close: [1009] };
  if (!isUtf8(data)) return { close: [1007] };
  const parsed = ClientTextMessageSchema.safeParse(tryJson(data.toString('utf8')));
  return parsed.success && parsed.data.type === 'stats' ? { silent: true } : { refusal: ['BAD_MESSAGE'] };
}

export function expectFrame(data: Buffer): Expect {
  if (data.length > MAX_PAYLOAD) return { close: [1009] };
  const frame = decodeFrame(data);
  return frame.ok
    ? { answers: { frameIds: [frame.value.header.frameId], errors: FRAME_ERRORS } }
    : { refusal: ['BAD_MESSAGE'] };
}

const NOT_JSON = Symbol('not JSON');
function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return NOT_JSON;
  }
}

// ---- text: hellos, session garbage, stats ----

const hello = (over: Record<string, unknown> = {}) => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  deviceId: FUZZ_DEVICE.id,
  token: FUZZ_DEVICE.token,
  ...over,
});

const WRONG_VALUES: readonly unknown[] = [
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
function unicode(rng: Rng, n: number): string {
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
function extraKey(rng: Rng): string {
  return pick(rng, [
    () => `x${randomInt(rng, 1000)}`,
    () => 'k'.repeat(1 + randomInt(rng, 3000)),
    () => unicode(rng, 1 + randomInt(rng, 200)),
    () => 'é'.repeat(40 + randomInt(rng, 100)),
    () => pick(rng, ['__proto__', 'constructor', 'prototype', 'toString', '']),
  ])();
}

function randomJson(rng: Rng, depth: number): string {
  const value = (d: number): unknown => {
    const r = rng();
    if (d <= 0 || r < 0.4) return pick(rng, WRONG_VALUES);
    if (r < 0.7) return Array.from({ length: randomInt(rng, 4) }, () => value(d - 1));
    return Object.fromEntries(Array.from({ length: randomInt(rng, 4) }, () => [extraKey(rng), value(d - 1)]));
  };
  return JSON.stringify(value(depth));
}

/** Flips 1–n random bytes. */
function flip(rng: Rng, data: Buffer, n: number, from = 0): Buffer {
  const out = Buffer.from(data);
  const count = 1 + randomInt(rng, n);
  for (let i = 0; i < count && out.length > from; i++)
    out[from + randomInt(rng, out.length - from)]! ^= 1 + randomInt(rng, 255);
  return out;
}

function malformedHello(rng: Rng): Named {
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

function sessionText(rng: Rng): Named {
  return pick(rng, [
    (): Named => ['random bytes as text', randomBytes(rng, 1 + randomInt(rng, 1024))],
    (): Named => ['unicode text', Buffer.from(unicode(rng, 1 + randomInt(rng, 300)))],
    (): Named => ['random JSON', Buffer.from(randomJson(rng, 4))],
    (): Named => ['hello again', Buffer.from(JSON.stringify(hello()))],
    (): Named => ['frame header as text', headerJson(rng, 'as-text')],
    (): Named => ['empty text', Buffer.alloc(0)],
  ])();
}

const statsMsg = () => ({ type: 'stats', frames: 10, offloaded: 3, capturedBytes: 1000, sentBytes: 300 });

function stats(rng: Rng): Named {
  const s: Record<string, unknown> = statsMsg();
  const r = rng();
  if (r < 0.3) return ['valid stats', Buffer.from(JSON.stringify({ ...s, frames: randomInt(rng, 2 ** 31) }))];
  if (r < 0.6) s[pick(rng, Object.keys(s))] = pick(rng, [...WRONG_VALUES, 2 ** 53, -0, 2 ** 60]);
  else if (r < 0.8) s[extraKey(rng)] = 1;
  else return ['byte-flipped stats', flip(rng, Buffer.from(JSON.stringify(s)), 3)];
  return ['mutated stats', Buffer.from(JSON.stringify(s))];
}

// ---- binary envelopes ----

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

function header0(rng: Rng, frameId: string): FrameHeader {
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
const garbage = (rng: Rng) => randomBytes(rng, 1 + randomInt(rng, 64));

function badPrefix(rng: Rng, id: string): Named {
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

function mutatedHeader(rng: Rng, id: string): Named {
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

// ---- images ----

function garbageImage(rng: Rng, assets: Assets): Named {
  const src = pick(rng, [
    assets.tench,
    assets.small.jpeg,
    assets.small.png,
    assets.small.webp,
    ...assets.jpegs,
  ]);
  return pick(rng, [
    (): Named => ['truncated image', src.subarray(0, 1 + randomInt(rng, src.length - 1))],
    (): Named => ['byte-flipped image', flip(rng, src, 64, 2)],
    (): Named => ['byte-flipped image, one byte', flip(rng, src, 1, 2)],
    (): Named => ['random bytes', randomBytes(rng, 1 + randomInt(rng, 32 * 1024))],
    (): Named => ['zero bytes', Buffer.alloc(1 + randomInt(rng, 32 * 1024))],
    (): Named => [
      'PNG signature, garbage',
      Buffer.concat([PNG_SIGNATURE, randomBytes(rng, randomInt(rng, 4096))]),
    ],
    (): Named => [
      'PNG IHDR, garbage IDAT',
      png({
        width: 1 + randomInt(rng, 4096),
        height: 1 + randomInt(rng, 4096),
        depth: 8,
        colour: 2,
        idat: randomBytes(rng, 256),
      }),
    ],
    (): Named => [
      'WebP header, garbage',
      Buffer.concat([riff('WEBPVP8 ', 4096), randomBytes(rng, randomInt(rng, 4096))]),
    ],
    (): Named => [
      'JPEG SOI, garbage',
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(rng, randomInt(rng, 4096))]),
    ],
    (): Named => [
      'other format magic, garbage',
      Buffer.concat([pick(rng, OTHER_MAGIC), randomBytes(rng, randomInt(rng, 2048))]),
    ],
    (): Named => [
      'image with trailing garbage',
      Buffer.concat([assets.small.jpeg, randomBytes(rng, 1 + randomInt(rng, 2048))]),
    ],
  ])();
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const OTHER_MAGIC = [
  'GIF89a',
  'II*\0',
  'MM\0*',
  'BM',
  '\0\0\0\x18ftypheic',
  '<svg',
  '<?xml',
  '%PDF-1.4',
  'P6\n',
].map((s) => Buffer.from(s, 'latin1'));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const b of data) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}
/** A PNG with correct chunk CRCs around whatever IDAT it is given. */
function png(o: {
  width: number;
  height: number;
  depth: number;
  colour: number;
  interlace?: number;
  idat: Buffer;
}) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width, 0);
  ihdr.writeUInt32BE(o.height, 4);
  ihdr.writeUInt8(o.depth, 8);
  ihdr.writeUInt8(o.colour, 9);
  ihdr.writeUInt8(o.interlace ?? 0, 12);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', o.idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
const riff = (fourcc: string, size: number) => {
  const out = Buffer.alloc(16);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(size, 4);
  out.write(fourcc, 8, 'latin1');
  return out;
};

/** Raw size of an Adam7-interlaced image: every pass's scanlines, each with its filter byte. */
function adam7Bytes(width: number, height: number, bytesPerPixel: number): number {
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + w * bytesPerPixel);
  }
  return total;
}

/** Writes width × height into a JPEG's first SOF marker. */
function withJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + out.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker');
}

const svg = (w: number, h: number, body: string) =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}">${body}</svg>`,
  );

export async function buildAssets(datasetDir: string): Promise<Assets> {
  const names = [
    'n01440764_tench.jpg',
    'n01443537_goldfish.jpg',
    'n01484850_great_white_shark.jpg',
    'n01491361_tiger_shark.jpg',
    'n01494475_hammerhead.jpg',
  ];
  const [tench, ...jpegs] = await Promise.all(names.map((n) => readFile(path.join(datasetDir, n))));
  const thumb = sharp(tench!).resize(64, 64);
  const small = {
    jpeg: await thumb.clone().jpeg({ quality: 80 }).toBuffer(),
    png: await thumb.clone().png().toBuffer(),
    webp: await thumb.clone().webp().toBuffer(),
  };
  // Just under 24 megapixels, more than any camera frame here: within a sane pixel limit, yet
  // interlaced 16-bit RGBA makes libpng hold the whole image, 8 bytes a pixel (~180 MB from ~180 kB).
  const size = 4800;
  const bombPng = png({
    width: size,
    height: size,
    depth: 16,
    colour: 6,
    interlace: 1,
    idat: deflateSync(Buffer.alloc(adam7Bytes(size, size, 8)), { level: 9 }),
  });
  const bombJpeg = await sharp({
    create: { width: size, height: size, channels: 3, background: '#808080' },
    limitInputPixels: false,
  })
    .toColourspace('b-w')
    .jpeg({ quality: 1, progressive: true })
    .toBuffer();
  const nest = Array.from(
    { length: 30 },
    (_, i) => `<g id="a${i + 1}"><use xlink:href="#a${i}"/><use xlink:href="#a${i}"/></g>`,
  ).join('');
  const giants = [
    {
      note: 'PNG IHDR claiming 60000x60000',
      bytes: png({ width: 60000, height: 60000, depth: 8, colour: 2, idat: deflateSync(Buffer.alloc(4096)) }),
    },
    { note: 'JPEG SOF claiming 60000x60000', bytes: withJpegSize(tench!, 60000, 60000) },
    { note: 'SVG of 60000x60000', bytes: svg(60000, 60000, '<rect width="10" height="10"/>') },
    {
      note: 'WebP VP8X canvas 16384x16384',
      bytes: Buffer.concat([
        riff('WEBPVP8X', 4096),
        Buffer.from([10, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x3f, 0, 0xff, 0x3f, 0]),
        Buffer.alloc(64),
      ]),
    },
    {
      note: 'GIF screen 65535x65535',
      bytes: Buffer.concat([
        Buffer.from('GIF89a'),
        Buffer.from([
          0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 2, 2, 0x44, 0x01, 0,
          0x3b,
        ]),
      ]),
    },
    {
      note: 'valid PNG 8000x8000, 62 kB (deflate bomb, streamed)',
      bytes: png({
        width: 8000,
        height: 8000,
        depth: 8,
        colour: 0,
        idat: deflateSync(Buffer.alloc(8001 * 8000), { level: 9 }),
      }),
    },
  ];
  const svgBlur = svg(
    8000,
    8000,
    `<filter id="f"><feGaussianBlur stdDeviation="2000"/><feMorphology radius="500"/></filter>${'<rect width="8000" height="8000" fill="red" filter="url(#f)"/>'.repeat(20)}`,
  );
  const svgUse = svg(
    4000,
    4000,
    `<defs><g id="a0"><rect width="4000" height="4000" fill-opacity="0.01"/></g>${nest}</defs><use xlink:href="#a30"/>`,
  );
  const bombs = [
    {
      note: `interlaced 16-bit RGBA PNG ${size}x${size}, ${bombPng.length} bytes (memory bomb)`,
      images: [bombPng],
    },
    { note: `progressive JPEG ${size}x${size}, ${bombJpeg.length} bytes (memory bomb)`, images: [bombJpeg] },
    { note: `SVG 8000x8000 with blur filters, ${svgBlur.length} bytes (CPU bomb)`, images: [svgBlur] },
    {
      note: `4 SVGs of 2^30 nested <use>, ${svgUse.length} bytes each, at once (CPU bombs)`,
      images: Array(4).fill(svgUse),
    },
    { note: '2 interlaced 16-bit PNG bombs at once', images: [bombPng, bombPng] },
  ];
  return { tench: tench!, jpegs, small, giants, bombs };
}

// ---- beyond the payload limit ----

type Oversized = { stage: 'fresh' | 'session'; note: string; send: Wire[]; expect: Expect };

function oversized(rng: Rng, id: string, assets: Assets): Oversized {
  const over = MAX_PAYLOAD + 1 + randomInt(rng, MAX_PAYLOAD);
  const tooBig = { close: [1009] };
  switch (randomInt(rng, 5)) {
    case 0: {
      const data = Buffer.from(JSON.stringify(hello({ agent: 'a'.repeat(over) })));
      return { stage: 'fresh', note: 'huge hello', send: [{ data, binary: false }], expect: tooBig };
    }
    case 1:
      return {
        stage: 'session',
        note: 'huge text',
        send: [{ data: Buffer.alloc(over, 0x61), binary: false }],
        expect: tooBig,
      };
    case 2: {
      const data = envelope(headerJson(rng, id), Buffer.alloc(over));
      return { stage: 'session', note: 'frame over the limit', send: [bin(data)], expect: tooBig };
    }
    case 3: {
      // Exactly at the limit (or one byte under) is allowed: the frame gets an answer.
      const json = headerJson(rng, id);
      const pad = MAX_PAYLOAD - 9 - json.length - assets.small.jpeg.length - randomInt(rng, 2);
      const data = envelope(json, Buffer.concat([assets.small.jpeg, Buffer.alloc(pad)]));
      const expect = { answers: { frameIds: [id], errors: FRAME_ERRORS } };
      return { stage: 'session', note: 'frame at the limit', send: [bin(data)], expect };
    }
    default:
      return {
        stage: 'fresh',
        note: 'huge binary before hello',
        send: [bin(randomBytes(rng, over))],
        expect: tooBig,
      };
  }
}

// ---- WebSocket framing, spoken raw ----

/** One client frame (RFC 6455 §5.2), masked unless `mask` is null; `length` may lie. */
export function wsFrame(o: {
  opcode: number;
  payload?: Buffer;
  fin?: boolean;
  rsv?: number;
  mask?: Buffer | null;
  length?: bigint;
}): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const length = o.length ?? BigInt(payload.length);
  const mask = o.mask === undefined ? Buffer.from([0x12, 0x34, 0x56, 0x78]) : o.mask;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | o.opcode];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(length);
  }
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), ext, mask ?? Buffer.alloc(0), body]);
}

const helloFrame = () => wsFrame({ opcode: 1, payload: Buffer.from(JSON.stringify(hello())) });
const closePayload = (code: number, reason = Buffer.alloc(0)) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, reason]);
};

function wsFrameCase(rng: Rng): { note: string; raw: RawPlan; expect: Expect | null } {
  const request = { path: '/v1/edge', version: '13' };
  const after = (note: string, frames: Buffer[], close: number[]) => {
    const authed = rng() < 0.5;
    return {
      note: `${note}${authed ? ' (after hello)' : ''}`,
      raw: { request, frames: authed ? [helloFrame(), ...frames] : frames, end: 'wait' as const },
      expect: { close },
    };
  };
  const chunk = () => randomBytes(rng, 64 * 1024);
  const variants: (() => { note: string; raw: RawPlan; expect: Expect | null })[] = [
    () => after('unmasked frame', [wsFrame({ opcode: 2, payload: garbage(rng), mask: null })], [1002]),
    () =>
      after(
        'reserved opcode',
        [wsFrame({ opcode: pick(rng, [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: garbage(rng) })],
        [1002],
      ),
    () =>
      after(
        'RSV bits set',
        [wsFrame({ opcode: 2, rsv: 1 + randomInt(rng, 7), payload: garbage(rng) })],
        [1002],
      ),
    () => after('ping of 126 bytes', [wsFrame({ opcode: 9, payload: randomBytes(rng, 126) })], [1002]),
    () => after('fragmented ping', [wsFrame({ opcode: 9, fin: false })], [1002]),
    () => after('continuation without a start', [wsFrame({ opcode: 0, payload: garbage(rng) })], [1002]),
    () =>
      after(
        'new message inside a fragmented one',
        [
          wsFrame({ opcode: 2, fin: false, payload: garbage(rng) }),
          wsFrame({ opcode: 1, payload: Buffer.from('{}') }),
        ],
        [1002],
      ),
    () => after('declared length 2^62', [wsFrame({ opcode: 2, length: 2n ** 62n })], [1009]),
    () => after('declared length 2^63', [wsFrame({ opcode: 2, length: 2n ** 63n })], [1009, 1002]),
    () =>
      after(
        'declared length over maxPayload',
        [wsFrame({ opcode: 2, length: BigInt(MAX_PAYLOAD + 1 + randomInt(rng, 1 << 30)) })],
        [1009],
      ),
    () =>
      after(
        'fragments adding up past maxPayload',
        [
          wsFrame({ opcode: 2, fin: false, payload: chunk() }),
          ...Array.from({ length: 4 }, (_, k) => wsFrame({ opcode: 0, fin: k === 3, payload: chunk() })),
        ],
        [1009],
      ),
    () =>
      after(
        'close with an invalid code',
        [
          wsFrame({
            opcode: 8,
            payload: closePayload(pick(rng, [0, 999, 1004, 1005, 1006, 1015, 2999, 5000])),
          }),
        ],
        [1002],
      ),
    () => after('close with a one-byte body', [wsFrame({ opcode: 8, payload: Buffer.from([3]) })], [1002]),
    () =>
      after(
        'close with an invalid UTF-8 reason',
        [wsFrame({ opcode: 8, payload: closePayload(1000, Buffer.from([0xc3, 0x28, 0xff])) })],
        [1007],
      ),
    () =>
      after(
        'text frame of invalid UTF-8',
        [wsFrame({ opcode: 1, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) })],
        [1007],
      ),
    () => after('polite close', [wsFrame({ opcode: 8, payload: closePayload(1000) })], [1000]),
    () => {
      // A valid hello split inside a multi-byte character: legal, the gateway must welcome it.
      const h = Buffer.from(JSON.stringify(hello({ agent: 'caméra' })));
      const cut = h.indexOf(0xa9);
      return {
        note: 'hello fragmented inside a character',
        raw: {
          request,
          frames: [
            wsFrame({ opcode: 1, fin: false, payload: h.subarray(0, cut) }),
            wsFrame({ opcode: 0, payload: h.subarray(cut) }),
          ],
          end: 'wait',
        },
        expect: { welcome: true },
      };
    },
    () => ({
      note: 'upgrade to a wrong path',
      raw: {
        request: { ...request, path: pick(rng, ['/', '/v1/edgex', '/v2/edge', '/v1/edge/x']) },
        frames: [],
        end: 'wait',
      },
      expect: { http: [404] },
    }),
    () => ({
      note: 'unsupported WebSocket version',
      raw: { request: { ...request, version: pick(rng, ['7', '14', 'x', '']) }, frames: [], end: 'wait' },
      expect: { http: [400, 426] },
    }),
    () => ({
      note: 'upgrade with POST',
      raw: { request: { ...request, method: 'POST' }, frames: [], end: 'wait' },
      expect: { http: [400, 404, 405] },
    }),
  ];
  return pick(rng, variants)();
}

function churnCase(
  rng: Rng,
  base: { index: number; category: Category },
  id: string,
  assets: Assets,
): FuzzCase {
  const request = { path: '/v1/edge', version: '13' };
  const frame = () => envelope(headerJson(rng, `${id}.${randomInt(rng, 1e6)}`), garbageImage(rng, assets)[1]);
  const half = (bytes: Buffer) => {
    const whole = wsFrame({ opcode: 2, payload: bytes });
    return whole.subarray(0, 1 + randomInt(rng, whole.length - 1));
  };
  const r = randomInt(rng, 9);
  if (r === 0)
    return { ...base, stage: 'churn', note: 'abort while connecting', churn: { kind: 'abort-connecting' } };
  if (r === 1)
    return {
      ...base,
      stage: 'churn',
      note: 'open, silence, terminate',
      churn: { kind: 'idle-terminate', afterMs: randomInt(rng, 30) },
    };
  if (r === 2)
    return { ...base, stage: 'churn', note: 'hello, close at once', churn: { kind: 'close-after-hello' } };
  if (r === 3) {
    const big = envelope(
      headerJson(rng, id),
      Buffer.concat([assets.tench, randomBytes(rng, 100_000 + randomInt(rng, 100_000))]),
    );
    return {
      ...base,
      stage: 'churn',
      note: 'terminate while sending a frame',
      churn: { kind: 'terminate-mid-send', frame: big },
    };
  }
  if (r === 4)
    return {
      ...base,
      stage: 'churn',
      note: 'close with frames in flight',
      churn: { kind: 'close-with-frames-in-flight', frames: [frame(), frame(), frame()] },
    };
  if (r === 5)
    return {
      ...base,
      stage: 'raw',
      note: 'half an upgrade request, reset',
      raw: { request: { ...request, partial: true }, frames: [], end: 'destroy' },
      expect: null,
    };
  if (r === 6)
    return {
      ...base,
      stage: 'raw',
      note: 'half a frame after hello, reset',
      raw: { request, frames: [helloFrame(), half(frame())], end: 'destroy' },
      expect: null,
    };
  if (r === 7)
    return {
      ...base,
      stage: 'raw',
      note: 'half a frame before hello, reset',
      raw: { request, frames: [half(frame())], end: 'destroy' },
      expect: null,
    };
  // Half a frame, then a FIN: the gateway must not keep the half-open socket.
  return {
    ...base,
    stage: 'raw',
    note: 'half a frame, then FIN',
    raw: { request, frames: [helloFrame(), half(frame())], end: 'end' },
    expect: { close: [1000, 1001, 1002, 1006] },
  };
}
