import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Classifier,
  type EncodingCodec,
  type PayloadConfig,
  type PayloadShape,
  shapePayload,
  toModelView,
  topK,
} from '@squeezegate/shared';
import type { SourceFrame } from '../source/directory-source.ts';

/**
 * How the cloud saw a frame: as captured, or through a payload the edge would send, named
 * `<kind>-q<quality>` for JPEG (the names of the first caches) or `<kind>-<codec>-q<quality>`.
 */
export type CloudVariant =
  | 'captured'
  | `${PayloadConfig['kind']}-q${number}`
  | `${PayloadConfig['kind']}-${Exclude<EncodingCodec, 'jpeg'>}-q${number}`;

export const variantOf = (payload: PayloadShape): CloudVariant =>
  payload.kind === 'original'
    ? 'captured'
    : payload.codec === 'jpeg'
      ? `${payload.kind}-q${payload.quality}`
      : `${payload.kind}-${payload.codec}-q${payload.quality}`;

export function payloadOf(variant: CloudVariant): PayloadShape {
  if (variant === 'captured') return { kind: 'original', codec: 'jpeg', quality: 85 };
  const [head, q] = variant.split('-q') as [string, string];
  const [kind, codec = 'jpeg'] = head.split('-') as [PayloadConfig['kind'], EncodingCodec?];
  return { kind, codec, quality: Number(q) };
}

export interface CloudView {
  top1: number;
  p: number;
  /** Bytes of the payload (of the file, for `captured`). */
  bytes: number;
}

/** One labelled frame with the edge model's probabilities and the cloud's answer per variant. */
export interface FramePrediction {
  name: string;
  truth: number | null;
  capturedBytes: number;
  edge: Float32Array;
  cloud: Record<CloudVariant, CloudView>;
}

export interface PredictOptions {
  frames: readonly SourceFrame[];
  edge: Classifier;
  cloud: Classifier;
  variants: readonly CloudVariant[];
  /** Results are cached here, keyed by model sha256 and file sha256; a re-run only reads. */
  cacheDir: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

type CloudCache = Record<string, CloudView>;

async function readJson<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
}

/**
 * One inference pass of each model over a set: the edge model on every frame, the cloud model
 * on every frame as captured and through each payload variant. Cached per model and image
 * (file sha256 × model sha256, plus the edge crop for payloads cut by the edge).
 */
export async function predictSet(
  options: PredictOptions,
): Promise<{ predictions: FramePrediction[]; skipped: { name: string; error: string }[] }> {
  const { frames, edge, cloud, variants, cacheDir, onProgress, signal } = options;
  const edgeDir = path.join(cacheDir, `edge-${edge.spec.id}-${edge.spec.sha256.slice(0, 12)}`);
  const cloudKey = (v: CloudVariant) =>
    path.join(
      cacheDir,
      `cloud-${cloud.spec.id}-${cloud.spec.sha256.slice(0, 12)}`,
      // Payloads are cut by the edge's preprocessing: its sizes are part of the key.
      `${v === 'captured' ? v : `${v}-from${edge.spec.preprocess.resizeShortSide}-${edge.spec.preprocess.centerCrop}`}.json`,
    );
  const all: CloudVariant[] = ['captured', ...variants.filter((v) => v !== 'captured')];
  const cloudCaches = new Map<CloudVariant, CloudCache>();
  for (const v of all) cloudCaches.set(v, await readJson<CloudCache>(cloudKey(v), {}));
  const dirty = new Set<CloudVariant>();
  const out: FramePrediction[] = [];
  const skipped: { name: string; error: string }[] = [];
  for (const [i, frame] of frames.entries()) {
    if (signal?.aborted) throw signal.reason;
    try {
      out.push(await predictFrame(frame));
    } catch (err) {
      // An unreadable frame is reported, not fatal: the rest of the set still counts.
      skipped.push({ name: frame.name, error: err instanceof Error ? err.message : String(err) });
    }
    onProgress?.(i + 1, frames.length);
    // Persist now and then so an interrupted pass keeps its work.
    if (dirty.size > 0 && (i + 1) % 100 === 0) await flush();
  }
  await flush();
  return { predictions: out, skipped };

  async function predictFrame(frame: SourceFrame): Promise<FramePrediction> {
    const captured = await readFile(frame.file);
    const hash = createHash('sha256').update(captured).digest('hex');
    const edgeFile = path.join(edgeDir, `${hash}.f32`);
    let edgeProbs: Float32Array | null = null;
    try {
      const buf = await readFile(edgeFile);
      edgeProbs = new Float32Array(new Uint8Array(buf).buffer);
    } catch {
      // not cached
    }
    let view: Awaited<ReturnType<typeof toModelView>> | null = null;
    const edgeView = async () => {
      view ??= await toModelView(captured, { preprocess: edge.spec.preprocess });
      return view;
    };
    if (!edgeProbs) {
      edgeProbs = (await edge.classify([await edgeView()]))[0]!.probs;
      await writeAtomic(
        edgeFile,
        new Uint8Array(edgeProbs.buffer, edgeProbs.byteOffset, edgeProbs.byteLength),
      );
    }
    const cloudViews = {} as Record<CloudVariant, CloudView>;
    for (const v of all) {
      const cache = cloudCaches.get(v)!;
      let hit = cache[hash];
      if (!hit) {
        const shaped =
          v === 'captured'
            ? { bytes: captured, view: 'full' as const }
            : await shapePayload(
                { captured, view: await edgeView(), shortSide: edge.spec.preprocess.resizeShortSide },
                payloadOf(v),
              );
        const cloudView = await toModelView(shaped.bytes, {
          preprocess: cloud.spec.preprocess,
          view: shaped.view,
        });
        const best = topK((await cloud.classify([cloudView]))[0]!.probs, 1)[0]!;
        hit = { top1: best.index, p: best.p, bytes: shaped.bytes.length };
        cache[hash] = hit;
        dirty.add(v);
      }
      cloudViews[v] = hit;
    }
    return {
      name: frame.name,
      truth: frame.truth,
      capturedBytes: captured.length,
      edge: edgeProbs,
      cloud: cloudViews,
    };
  }

  async function flush() {
    for (const v of dirty) await writeAtomic(cloudKey(v), JSON.stringify(cloudCaches.get(v)));
    dirty.clear();
  }
}
