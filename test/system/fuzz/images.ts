// Images that are not what they claim: truncated, flipped, garbage behind real signatures; and
// the few format writers (PNG with valid CRCs, RIFF, JPEG size) that the crafted assets use too.
import { randomBytes, randomInt } from '../../support/prng.ts';
import { type Assets, type Named, pick, type Rng } from './plan.ts';
import { flip } from './values.ts';

export function garbageImage(rng: Rng, assets: Assets): Named {
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
export function png(o: {
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
export const riff = (fourcc: string, size: number) => {
  const out = Buffer.alloc(16);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(size, 4);
  out.write(fourcc, 8, 'latin1');
  return out;
};

/** Raw size of an Adam7-interlaced image: every pass's scanlines, each with its filter byte. */
export function adam7Bytes(width: number, height: number, bytesPerPixel: number): number {
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
export function withJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
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

export const svg = (w: number, h: number, body: string) =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}">${body}</svg>`,
  );
