// The images the cases cut up: dataset JPEGs, small re-encodings, and crafted giants and bombs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { adam7Bytes, png, riff, svg, withJpegSize } from './images.ts';
import type { Assets } from './plan.ts';

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
