// A corrupted copy of a labelled image set (issue 16 §3): the same images and labels as a camera
// would capture them in worse conditions, to check that a threshold calibrated on clean images
// still keeps its promise there. Deterministic from its seed; written to a cache directory (never
// committed) with its manifest.csv, so the inference cache and the directory source read it as
// any other set.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom, shuffled } from '@squeezegate/edge';
import sharp from 'sharp';

export const CORRUPTIONS = ['noise', 'blur', 'lowlight', 'jpeg', 'pixelate'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

/**
 * One severity, moderate (about ImageNet-C's 2–3): blur, noise and low light as the fleet bench's
 * `moderate` night. Sizes are at the model's scale (short side 256) and scaled to each image's
 * own; noise is added at capture resolution.
 */
export const CORRUPTION_PARAMS = {
  /** Gaussian noise σ on 8-bit pixels. */
  noise: 20,
  /** Gaussian blur σ, in pixels at short side 256. */
  blur: 2,
  /** 40 % of the light, then sensor noise σ 6. */
  light: 0.4,
  lightNoise: 6,
  /** JPEG quality of the `jpeg` corruption (the others are written at quality 90). */
  jpegQuality: 10,
  /** Pixel blocks, in pixels at short side 256 (≈ 85 blocks across the short side). */
  pixelate: 3,
} as const;

export interface CorruptedSet {
  dir: string;
  /** Image file name → the corruption it got. */
  corruption: Map<string, Corruption>;
  /** True when the set was already in place and only read. */
  reused: boolean;
}

interface Row {
  file: string;
  line: string;
}

async function readManifest(dataset: string): Promise<{ header: string; rows: Row[] }> {
  const [header = '', ...lines] = (await readFile(path.join(dataset, 'manifest.csv'), 'utf8'))
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const at = header.split(',').indexOf('file');
  if (at !== 0) throw new Error(`${dataset}/manifest.csv: the first column must be "file"`);
  // The file name is the first column and has no comma (the rest of the line is kept as it is).
  return { header, rows: lines.map((line) => ({ file: line.slice(0, line.indexOf(',')), line })) };
}

/** Gaussian noise (Box–Muller, seeded) on 8-bit pixels. */
function addNoise(pixels: Buffer, sigma: number, random: () => number): Buffer {
  const out = Buffer.alloc(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
    out[i] = Math.max(0, Math.min(255, Math.round(pixels[i]! + sigma * g)));
  }
  return out;
}

/** One image with one corruption, as a JPEG. */
export async function corruptImage(input: Buffer, kind: Corruption, seed: number): Promise<Buffer> {
  const k = CORRUPTION_PARAMS;
  const { data, info } = await sharp(input)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const raw = { raw: { width, height, channels } };
  const scale = Math.min(width, height) / 256;
  const random = seededRandom(seed);
  const jpeg = (pixels: Buffer, quality = 90) => sharp(pixels, raw).jpeg({ quality }).toBuffer();
  switch (kind) {
    case 'noise':
      return jpeg(addNoise(data, k.noise, random));
    case 'blur':
      return jpeg(
        await sharp(data, raw)
          .blur(Math.max(0.3, k.blur * scale))
          .raw()
          .toBuffer(),
      );
    case 'lowlight':
      // Less light, then the sensor's noise amplified by the gain.
      return jpeg(addNoise(await sharp(data, raw).linear(k.light, 0).raw().toBuffer(), k.lightNoise, random));
    case 'jpeg':
      return jpeg(data, k.jpegQuality);
    case 'pixelate': {
      const block = Math.max(1, k.pixelate * scale);
      const small = await sharp(data, raw)
        .resize(Math.max(1, Math.round(width / block)), Math.max(1, Math.round(height / block)), {
          kernel: 'nearest',
        })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const s = small.info;
      const back = await sharp(small.data, {
        raw: { width: s.width, height: s.height, channels: s.channels },
      })
        .resize(width, height, { kernel: 'nearest' })
        .raw()
        .toBuffer();
      return jpeg(back);
    }
  }
}

/**
 * Writes a corrupted copy of the first `limit` images of `dataset` (all by default) to a directory
 * of `root` named by seed and size (`corrupted-s1-n1000`), so sets of other sizes never mix: each
 * image gets exactly one corruption, the five in equal shares over a seeded permutation, so every
 * kind sees about the same classes. manifest.csv keeps the dataset's rows (same labels) with a
 * `corruption` column. A copy already there with the same seed, size and parameters is reused.
 */
export async function buildCorruptedSet(options: {
  dataset: string;
  root: string;
  seed?: number;
  limit?: number | undefined;
  onProgress?: (done: number, total: number) => void;
}): Promise<CorruptedSet> {
  const { dataset, seed = 1 } = options;
  const manifest = await readManifest(dataset);
  const rows = [...manifest.rows].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const chosen = options.limit === undefined ? rows : rows.slice(0, options.limit);
  const order = shuffled(
    chosen.map((_, i) => i),
    seededRandom(seed),
  );
  const to = path.join(options.root, `corrupted-s${seed}-n${chosen.length}`);
  const corruption = new Map<string, Corruption>();
  for (const [slot, i] of order.entries())
    corruption.set(chosen[i]!.file, CORRUPTIONS[slot % CORRUPTIONS.length]!);
  const stampFile = path.join(to, 'corruption.json');
  const stamp = JSON.stringify({
    dataset: path.resolve(dataset),
    seed,
    images: chosen.length,
    CORRUPTION_PARAMS,
  });
  const previous = await readFile(stampFile, 'utf8').catch(() => null);
  if (previous === stamp) return { dir: to, corruption, reused: true };

  await mkdir(to, { recursive: true });
  for (const [i, row] of chosen.entries()) {
    const out = await corruptImage(
      await readFile(path.join(dataset, row.file)),
      corruption.get(row.file)!,
      seed * 1_000_003 + i,
    );
    await writeFile(path.join(to, row.file), out);
    options.onProgress?.(i + 1, chosen.length);
  }
  const lines = [
    `${manifest.header},corruption`,
    ...chosen.map((r) => `${r.line},${corruption.get(r.file)}`),
  ];
  await writeFile(path.join(to, 'manifest.csv'), `${lines.join('\n')}\n`);
  // The stamp last, atomically: an interrupted build is redone, never reused half-written.
  await writeFile(`${stampFile}.tmp`, stamp);
  await rename(`${stampFile}.tmp`, stampFile);
  return { dir: to, corruption, reused: false };
}
