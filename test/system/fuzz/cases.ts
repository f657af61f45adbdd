// Each case from the seed and its index: the schedule of categories, and the case of each family
// (text.ts, envelope.ts, images.ts, oversized.ts, ws-frames.ts, churn.ts) with its oracle.
import { mulberry32, randomBytes, randomInt } from '../../support/prng.ts';
import { churnCase } from './churn.ts';
import { badPrefix, envelope, garbage, header0, headerJson, mutatedHeader } from './envelope.ts';
import { garbageImage } from './images.ts';
import { expectFrame, expectHello, expectSessionText } from './oracles.ts';
import { oversized } from './oversized.ts';
import {
  type Assets,
  BURST,
  bin,
  type Category,
  type Expect,
  FRAME_ERRORS,
  type FuzzCase,
  PLAN,
  pick,
  SHED,
  type Wire,
} from './plan.ts';
import { malformedHello, sessionText, stats } from './text.ts';
import { hello, randomJson, unicode } from './values.ts';
import { wsFrameCase } from './ws-frames.ts';

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
