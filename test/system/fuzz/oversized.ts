// Messages beyond the payload limit, and a frame exactly at it.
import { randomBytes, randomInt } from '../../support/prng.ts';
import { envelope, headerJson } from './envelope.ts';
import { type Assets, bin, type Expect, FRAME_ERRORS, MAX_PAYLOAD, type Rng, type Wire } from './plan.ts';
import { hello } from './values.ts';

type Oversized = { stage: 'fresh' | 'session'; note: string; send: Wire[]; expect: Expect };

export function oversized(rng: Rng, id: string, assets: Assets): Oversized {
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
