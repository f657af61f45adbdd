import {
  decodeFrame,
  encodeFrame,
  type FrameHeader,
  FrameHeaderSchema,
  MAX_HEADER_BYTES,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { mulberry32, randomBytes, randomInt } from '../../../../test/support/prng.ts';

const header: FrameHeader = {
  type: 'frame',
  frameId: 'cam-01/000042',
  seq: 42,
  view: 'crop',
  mime: 'image/jpeg',
  capturedAt: 1_700_000_000_123,
};
const image = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 0xff, 0xd9]);

/** Builds an envelope by hand, independently of encodeFrame, to aim at one field at a time. */
function envelope(parts: {
  magic?: string;
  version?: number;
  headerLength?: number;
  header: string;
  image: Buffer;
}): Buffer {
  const json = Buffer.from(parts.header, 'utf8');
  const prefix = Buffer.alloc(9);
  prefix.write(parts.magic ?? 'SQZF', 0, 'ascii');
  prefix.writeUInt8(parts.version ?? 1, 4);
  prefix.writeUInt32BE(parts.headerLength ?? json.length, 5);
  return Buffer.concat([prefix, json, parts.image]);
}

function expectError(data: Buffer, message: string | RegExp): void {
  const result = decodeFrame(data);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(message);
}

describe('encodeFrame / decodeFrame', () => {
  it('round-trips header and image bytes', () => {
    const data = encodeFrame(header, image);
    expect(data.subarray(0, 4).toString('ascii')).toBe('SQZF');
    expect(data[4]).toBe(1);
    const json = JSON.stringify(header);
    expect(data.readUInt32BE(5)).toBe(Buffer.byteLength(json));
    expect(data.length).toBe(9 + Buffer.byteLength(json) + image.length);

    const decoded = decodeFrame(data);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value.header).toEqual(header);
    expect(Buffer.compare(decoded.value.image, image)).toBe(0);
    // documented: the image is a view on the received buffer, not a copy
    expect(decoded.value.image.buffer).toBe(data.buffer);
  });

  it('counts the header length in bytes, not characters', () => {
    const unicode: FrameHeader = { ...header, frameId: 'caméra-été-📷' };
    const decoded = decodeFrame(encodeFrame(unicode, image));
    expect(decoded.ok && decoded.value.header.frameId).toBe('caméra-été-📷');
    expect(decoded.ok && decoded.value.image.length).toBe(image.length);
  });

  it('decodes an envelope that sits at an offset inside a larger buffer', () => {
    const data = encodeFrame(header, image);
    const pooled = Buffer.concat([Buffer.from('junk-before'), data]).subarray(11);
    const decoded = decodeFrame(pooled);
    expect(decoded.ok && Buffer.compare(decoded.value.image, image)).toBe(0);
  });

  it('refuses to encode a header over MAX_HEADER_BYTES', () => {
    const huge = { ...header, frameId: 'x'.repeat(MAX_HEADER_BYTES) };
    expect(() => encodeFrame(huge, image)).toThrow(RangeError);
  });
});

describe('decodeFrame failures', () => {
  const json = JSON.stringify(header);

  it('rejects an envelope shorter than its prefix', () => {
    expectError(Buffer.alloc(0), 'envelope too short (0 bytes)');
    expectError(Buffer.from('SQZF\u0001'), 'envelope too short (5 bytes)');
    expectError(encodeFrame(header, image).subarray(0, 8), 'envelope too short (8 bytes)');
  });

  it('rejects a bad magic', () => {
    expectError(envelope({ magic: 'SQZG', header: json, image }), 'bad envelope magic');
    expectError(envelope({ magic: 'sqzf', header: json, image }), 'bad envelope magic');
  });

  it('rejects another envelope version', () => {
    expectError(envelope({ version: 2, header: json, image }), 'unsupported envelope version 2');
    expectError(envelope({ version: 0, header: json, image }), 'unsupported envelope version 0');
  });

  it('rejects a header length beyond the data or beyond MAX_HEADER_BYTES', () => {
    const data = envelope({ header: json, image });
    expectError(
      envelope({ headerLength: data.length, header: json, image }),
      `bad header length ${data.length}`,
    );
    expectError(
      envelope({ headerLength: 0xffffffff, header: json, image }),
      `bad header length ${0xffffffff}`,
    );
    // a header that does fit in the data but is larger than allowed
    const padded = json + ' '.repeat(MAX_HEADER_BYTES);
    expectError(envelope({ header: padded, image }), `bad header length ${Buffer.byteLength(padded)}`);
  });

  it('rejects a header that is not JSON', () => {
    expectError(envelope({ header: '{"type":"frame",', image }), 'frame header: not valid JSON');
    expectError(envelope({ header: '', image }), 'frame header: not valid JSON');
  });

  it('rejects a header that fails the schema, saying which field', () => {
    expectError(envelope({ header: JSON.stringify({ ...header, seq: -1 }), image }), /^frame header: .*seq/s);
    expectError(
      envelope({ header: JSON.stringify({ ...header, extra: 1 }), image }),
      /^frame header: .*"extra"/s,
    );
    expectError(envelope({ header: JSON.stringify({ type: 'hello' }), image }), /^frame header: /);
  });

  it('rejects a frame without image bytes', () => {
    expectError(envelope({ header: json, image: Buffer.alloc(0) }), 'frame has no image bytes');
    expectError(encodeFrame(header, new Uint8Array(0)), 'frame has no image bytes');
  });
});

describe('decodeFrame fuzz', () => {
  it('never throws on 2000 mutated or truncated envelopes', () => {
    const rng = mulberry32(0x5eed);
    const valid = encodeFrame(header, randomBytes(rng, 64));
    const headerEnd = 9 + valid.readUInt32BE(5);
    const tally = { ok: 0, failed: 0 };

    for (let round = 0; round < 2000; round++) {
      let data: Buffer = Buffer.from(valid);
      switch (round % 5) {
        case 0: // flip a few random bytes anywhere
          for (let n = 1 + randomInt(rng, 4); n > 0; n--)
            data[randomInt(rng, data.length)] = randomInt(rng, 256);
          break;
        case 1: // truncate
          data = data.subarray(0, randomInt(rng, data.length));
          break;
        case 2: // random header length field
          data.writeUInt32BE(rng() < 0.5 ? randomInt(rng, 2 ** 32) : randomInt(rng, data.length + 16), 5);
          break;
        case 3: // corrupt a byte inside the JSON header
          data[9 + randomInt(rng, headerEnd - 9)] = randomInt(rng, 256);
          break;
        default: // random garbage, sometimes behind a valid magic and version
          data = randomBytes(rng, randomInt(rng, 128));
          if (data.length >= 5 && rng() < 0.5) {
            data.write('SQZF', 0, 'ascii');
            data[4] = 1;
          }
      }
      let result: ReturnType<typeof decodeFrame> | undefined;
      expect(() => {
        result = decodeFrame(data);
      }, `round ${round}`).not.toThrow();
      if (result?.ok) {
        tally.ok++;
        expect(FrameHeaderSchema.safeParse(result.value.header).success).toBe(true);
        expect(result.value.image.length).toBeGreaterThan(0);
      } else {
        tally.failed++;
        expect(result?.error.length).toBeGreaterThan(0);
      }
    }
    // The mutations must exercise both outcomes, or the loop proves nothing.
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.failed).toBeGreaterThan(1000);
  });
});
