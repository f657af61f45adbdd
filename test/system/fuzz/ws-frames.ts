// WebSocket framing spoken raw (RFC 6455): what the ws client will not send.
import { randomBytes, randomInt } from '../../support/prng.ts';
import { garbage } from './envelope.ts';
import { type Expect, MAX_PAYLOAD, pick, type RawPlan, type Rng } from './plan.ts';
import { hello } from './values.ts';

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

export const helloFrame = () => wsFrame({ opcode: 1, payload: Buffer.from(JSON.stringify(hello())) });
const closePayload = (code: number, reason = Buffer.alloc(0)) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, reason]);
};

export function wsFrameCase(rng: Rng): { note: string; raw: RawPlan; expect: Expect | null } {
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
