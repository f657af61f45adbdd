// The edge's payload codecs (PayloadSchema.codec): the gateway decodes each one it is sent, and
// a body that is not the image its header says is refused without taking the session down.
import {
  CODEC_MIME,
  type EncodingCodec,
  encodeFrame,
  encodePayload,
  type PayloadCodec,
} from '@squeezegate/shared';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, device, startGateway } from './harness.ts';

const image = (codec: EncodingCodec) => {
  // A gradient, so every codec has something to keep.
  const pixels = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 256;
  return encodePayload(sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }), {
    codec,
    quality: 80,
  });
};

describe('payload codecs at the gateway', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(() => stop?.());

  it('answers a WebP and a JPEG crop, each decoded for the model', async () => {
    const { gateway, backend } = await startGateway({ adminToken: ADMIN });
    stop = () => gateway.close();
    const client = await device(gateway.edgeUrl);
    const codecs: PayloadCodec[] = ['webp', 'jpeg'];
    for (const [i, codec] of codecs.entries()) {
      const { bytes, mime } = await image(codec);
      expect(mime).toBe(CODEC_MIME[codec]);
      client.ws.send(
        encodeFrame({ type: 'frame', frameId: `f-${codec}`, seq: i, view: 'crop', mime }, bytes),
      );
    }
    const messages = await client.received(1 + codecs.length);
    for (const codec of codecs) {
      expect(messages).toContainEqual(expect.objectContaining({ type: 'result', frameId: `f-${codec}` }));
    }
    expect(backend.inferences()).toBe(2);
    expect(gateway.counters()).toMatchObject({ framesIn: 2, results: 2, errors: 0 });
    client.ws.close();
  });

  it('refuses AVIF for now (its screen takes JPEG, PNG and WebP), and stays up', async () => {
    const { gateway } = await startGateway({ adminToken: ADMIN });
    stop = () => gateway.close();
    const client = await device(gateway.edgeUrl);
    const { bytes, mime } = await image('avif');
    client.ws.send(encodeFrame({ type: 'frame', frameId: 'f-avif', seq: 0, view: 'crop', mime }, bytes));
    const [, refused] = await client.received(2);
    expect(refused).toMatchObject({ type: 'error', frameId: 'f-avif', code: 'IMAGE_UNDECODABLE' });
    client.ws.close();
  });

  it('refuses a body labelled WebP that is not an image, and still answers the next frame', async () => {
    const { gateway } = await startGateway({ adminToken: ADMIN });
    stop = () => gateway.close();
    const client = await device(gateway.edgeUrl);
    const header = { type: 'frame', view: 'crop', mime: 'image/webp' } as const;
    client.ws.send(
      encodeFrame({ ...header, frameId: 'bad', seq: 0 }, Buffer.from('RIFF....WEBPVP8 not really')),
    );
    const { bytes } = await image('webp');
    client.ws.send(encodeFrame({ ...header, frameId: 'good', seq: 1 }, bytes));
    const [, bad, good] = await client.received(3);
    expect(bad).toMatchObject({ type: 'error', frameId: 'bad' });
    expect(good).toMatchObject({ type: 'result', frameId: 'good' });
    client.ws.close();
  });
});
