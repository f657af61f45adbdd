// The frames the simulated fleet sends: the sample set's images as the 224 × 224 crop an edge
// would send, clean and as a camera sees them at night (blur, noise, low light), each with the
// edge model's probabilities computed once and cached. Devices replay these; only the gateway
// runs a model while the bench runs.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom } from '@squeezegate/edge';
import { type Classifier, toModelView } from '@squeezegate/shared';
import sharp from 'sharp';

export const SCENES = ['clean', 'blur', 'noise', 'lowlight'] as const;
export type Scene = (typeof SCENES)[number];

export interface FleetFrame {
  name: string;
  truth: number;
  scene: Scene;
  /** The payload as sent: a 224 × 224 JPEG. */
  jpeg: Buffer;
  /** The edge model's probabilities on it. */
  probs: Float32Array;
}

const SIZE = 224;

/**
 * How hard the night is. `moderate`: blur σ 2 px, Gaussian noise σ 20 (of 255), 40 % of the light
 * with noise σ 6; `severe`: blur σ 3, noise σ 40, a quarter of the light with noise σ 10 (where
 * the cloud model fails about as often as the edge's).
 */
export const SEVERITIES = {
  moderate: { blur: 2, noise: 20, light: 0.4, lightNoise: 6 },
  severe: { blur: 3, noise: 40, light: 0.25, lightNoise: 10 },
} as const;
export type Severity = keyof typeof SEVERITIES;

/** Gaussian noise of standard deviation `sigma` on 8-bit pixels (Box–Muller, seeded). */
function addNoise(pixels: Buffer, sigma: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.alloc(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
    out[i] = Math.max(0, Math.min(255, Math.round(pixels[i]! + sigma * g)));
  }
  return out;
}

/** The 224 crop of an image (short side to 256, centre 224), corrupted as `scene` says, as a JPEG. */
export async function sceneJpeg(
  file: string,
  scene: Scene,
  options: { seed: number; severity: Severity },
): Promise<Buffer> {
  const { seed } = options;
  const k = SEVERITIES[options.severity];
  const { data } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(256, 256, { fit: 'cover' })
    .extract({ left: 16, top: 16, width: SIZE, height: SIZE })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: SIZE, height: SIZE, channels: 3 as const } };
  let pixels: Buffer = data;
  switch (scene) {
    case 'clean':
      break;
    case 'blur':
      pixels = await sharp(pixels, raw).blur(k.blur).raw().toBuffer();
      break;
    case 'noise':
      pixels = addNoise(pixels, k.noise, seed);
      break;
    case 'lowlight':
      // Less light, then the sensor's noise amplified by the gain.
      pixels = addNoise(await sharp(pixels, raw).linear(k.light, 0).raw().toBuffer(), k.lightNoise, seed);
      break;
  }
  return sharp(pixels, raw).jpeg({ quality: 90 }).toBuffer();
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch {
    return null;
  }
}

/** The first `images` labelled images of the sample set (manifest.csv: file, wnid, class_index, …). */
export async function sampleImages(
  dataset: string,
  images: number,
): Promise<{ file: string; truth: number }[]> {
  const lines = (await readFile(path.join(dataset, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
  // Every k-th image, so the subset spans the classes rather than the first few.
  const step = Math.max(1, Math.floor(lines.length / images));
  return lines
    .filter((_, i) => i % step === 0)
    .slice(0, images)
    .map((line) => {
      const [file, , index] = line.split(',');
      return { file: path.join(dataset, file!), truth: Number(index) };
    });
}

/**
 * Every image in every scene, with the edge model's probabilities: from the cache when there,
 * else computed (sharp for the corruption, the edge model once) and cached.
 */
export async function prepareFrames(options: {
  images: readonly { file: string; truth: number }[];
  edge: Classifier;
  cacheDir: string;
  severity: Severity;
  onProgress?: (done: number, total: number) => void;
}): Promise<FleetFrame[]> {
  const { images, edge } = options;
  const { severity } = options;
  // The corruption's parameters are part of the key: changing them never reads stale frames.
  const recipe = createHash('sha256').update(JSON.stringify(SEVERITIES[severity])).digest('hex').slice(0, 8);
  const dir = path.join(
    options.cacheDir,
    `fleet-${edge.spec.id}-${edge.spec.sha256.slice(0, 12)}`,
    `${severity}-${recipe}`,
  );
  const out: FleetFrame[] = [];
  const total = images.length * SCENES.length;
  for (const [i, image] of images.entries()) {
    const hash = createHash('sha256')
      .update(await readFile(image.file))
      .digest('hex')
      .slice(0, 24);
    for (const scene of SCENES) {
      const base = path.join(dir, scene, hash);
      let jpeg = await readOrNull(`${base}.jpg`);
      let probsBuf = jpeg ? await readOrNull(`${base}.f32`) : null;
      if (!jpeg || !probsBuf) {
        jpeg = await sceneJpeg(image.file, scene, { seed: i + 1, severity });
        const view = await toModelView(jpeg, { preprocess: edge.spec.preprocess, view: 'crop' });
        const probs = (await edge.classify([view]))[0]!.probs;
        probsBuf = Buffer.from(probs.buffer, probs.byteOffset, probs.byteLength);
        await writeAtomic(`${base}.jpg`, jpeg);
        await writeAtomic(`${base}.f32`, probsBuf);
      }
      const probs = new Float32Array(new Uint8Array(probsBuf).buffer);
      out.push({ name: path.basename(image.file), truth: image.truth, scene, jpeg, probs });
      options.onProgress?.(out.length, total);
    }
  }
  return out;
}
