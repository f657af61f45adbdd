import sharp from 'sharp';
import type { RawImage } from '../image/raw.ts';
import type { Detection } from './types.ts';

// Distinct, colour-blind-friendly hues (Okabe–Ito), cycled by class index.
const PALETTE = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#FFFFFF'];

const escapeXml = (s: string) =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

/**
 * Draws each detection's box and `label score` onto the frame (an SVG composited with sharp) and
 * encodes the result as PNG, for looking at what a detector saw.
 */
export async function drawDetections(image: RawImage, detections: readonly Detection[]): Promise<Buffer> {
  const { width, height } = image;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(11, Math.round(Math.min(width, height) / 40));
  const shapes = detections.map((d) => {
    const colour = PALETTE[d.classIndex % PALETTE.length]!;
    const [x1, y1, x2, y2] = d.box.map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
    const text = escapeXml(`${d.label} ${d.score.toFixed(2)}`);
    // The label sits above the box, or inside it when the box touches the top edge.
    const ty = y1 - font - 2 >= 0 ? y1 - font - 2 : y1;
    const tw = Math.ceil(text.length * font * 0.6) + 4;
    return [
      `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
      `<rect x="${x1}" y="${ty}" width="${tw}" height="${font + 2}" fill="${colour}"/>`,
      `<text x="${x1 + 2}" y="${ty + font - 1}" font-family="sans-serif" font-size="${font}" fill="#000">${text}</text>`,
    ].join('');
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  return sharp(image.pixels, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}
