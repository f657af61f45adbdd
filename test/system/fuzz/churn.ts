// Connections that go away at awkward moments: aborted, terminated mid-send, half frames, FINs.
import { randomBytes, randomInt } from '../../support/prng.ts';
import { envelope, headerJson } from './envelope.ts';
import { garbageImage } from './images.ts';
import type { Assets, Category, FuzzCase, Rng } from './plan.ts';
import { helloFrame, wsFrame } from './ws-frames.ts';

export function churnCase(
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
