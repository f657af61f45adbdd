import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Classifier,
  type EncodingCodec,
  fuseAnswer,
  type PayloadConfig,
  type PayloadShape,
  type PrivacyConfig,
  shapePayload,
  toModelView,
  topK,
} from '@squeezegate/shared';
import { preparePayload } from '../agent/classify-payload.ts';
import type { PrivacyGuard } from '../privacy/privacy-guard.ts';
import type { SourceFrame } from '../source/directory-source.ts';

type ShapedVariant =
  | `${PayloadConfig['kind']}-q${number}`
  | `${PayloadConfig['kind']}-${Exclude<EncodingCodec, 'jpeg'>}-q${number}`;

/**
 * How the cloud saw a frame: as captured, or through a payload the edge would send, named
 * `<kind>-q<quality>` for JPEG (the names of the first caches) or `<kind>-<codec>-q<quality>`.
 * A `+<privacy>` suffix (see `privacyVariant`) means the payload as the agent sends it: cut,
 * redacted and encoded by the agent's own code (`preparePayload`) with that privacy config.
 */
export type CloudVariant = 'captured' | ShapedVariant | `${ShapedVariant}+${string}`;

const shapeName = (payload: PayloadShape): ShapedVariant =>
  payload.codec === 'jpeg'
    ? `${payload.kind}-q${payload.quality}`
    : `${payload.kind}-${payload.codec}-q${payload.quality}`;

export const variantOf = (payload: PayloadShape): CloudVariant =>
  payload.kind === 'original' ? 'captured' : shapeName(payload);

/** Bumped when the agent's redaction changes what it sends: cached redacted payloads are then redone. */
const REDACTION_VERSION = 1;

/**
 * The variant of what the agent sends with this payload and privacy config: redacted through
 * `preparePayload` when privacy is active (named `<shape>+<faces>-<hash of the privacy settings
 * that change pixels>`; with privacy on, `original` is re-encoded too), else the plain shape.
 */
export function agentVariant(
  payload: PayloadShape,
  privacy: Pick<PrivacyConfig, 'faces' | 'faceModel' | 'faceThreshold' | 'facePadding' | 'masks'>,
): CloudVariant {
  const key = privacyKey(privacy);
  return key === null ? variantOf(payload) : `${shapeName(payload)}+${key}`;
}

/** The key of a privacy config's pixel-changing settings, or null when it changes none. */
export function privacyKey(
  privacy: Pick<PrivacyConfig, 'faces' | 'faceModel' | 'faceThreshold' | 'facePadding' | 'masks'>,
): string | null {
  if (privacy.faces === 'off' && privacy.masks.length === 0) return null;
  const { faces, faceModel, faceThreshold, facePadding, masks } = privacy;
  const settings = JSON.stringify([REDACTION_VERSION, faces, faceModel, faceThreshold, facePadding, masks]);
  return `${faces}-${createHash('sha256').update(settings).digest('hex').slice(0, 10)}`;
}

export function payloadOf(variant: CloudVariant): PayloadShape {
  const shape = variant.split('+')[0]!;
  if (shape === 'captured' || shape === 'original') return { kind: 'original', codec: 'jpeg', quality: 85 };
  const [head, q] = shape.split('-q') as [string, string];
  const [kind, codec = 'jpeg'] = head.split('-') as [PayloadConfig['kind'], EncodingCodec?];
  return { kind, codec, quality: Number(q) };
}

export interface CloudView {
  /** The cloud's top-1; for a withheld payload, the edge's (the frame keeps its local answer). */
  top1: number;
  p: number;
  /** Bytes of the payload (of the file, for `captured`); 0 when withheld. */
  bytes: number;
  /** `faces: withhold` found a face: nothing left, the frame keeps the edge's answer. */
  withheld?: true;
  /** The cloud's top 5 as [class, p], as the gateway answers (absent in caches written before). */
  top?: [number, number][];
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
  /**
   * The agent's privacy guard and its key (`privacyVariant`): variants with the `+<key>` suffix
   * are rendered through it, exactly as the agent would send them.
   */
  privacy?: { guard: PrivacyGuard; key: string } | undefined;
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
  const { frames, edge, cloud, variants, cacheDir, onProgress, signal, privacy } = options;
  for (const v of variants) {
    const suffix = v.split('+')[1];
    if (suffix !== undefined && suffix !== privacy?.key)
      throw new Error(`payload variant ${v} needs the privacy guard of "${suffix}"`);
  }
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
      // Entries written before the top 5 was kept are redone: answer fusion needs it.
      if (!hit || (!hit.top && !hit.withheld)) {
        const shaped = await shapeFor(v, frame, captured, edgeView);
        if (shaped === null) {
          // The cache is the cloud's: the answer a withheld frame keeps is filled in below.
          hit = { top1: -1, p: 0, bytes: 0, withheld: true };
        } else {
          const cloudView = await toModelView(shaped.bytes, {
            preprocess: cloud.spec.preprocess,
            view: shaped.view,
          });
          const top = topK((await cloud.classify([cloudView]))[0]!.probs, 5);
          const best = top[0]!;
          hit = {
            top1: best.index,
            p: best.p,
            bytes: shaped.bytes.length,
            top: top.map((t) => [t.index, Number(t.p.toFixed(6))]),
          };
        }
        cache[hash] = hit;
        dirty.add(v);
      }
      if (hit.withheld) {
        const local = topK(edgeProbs, 1)[0]!;
        cloudViews[v] = { ...hit, top1: local.index, p: local.p };
      } else cloudViews[v] = hit;
    }
    return {
      name: frame.name,
      truth: frame.truth,
      capturedBytes: captured.length,
      edge: edgeProbs,
      cloud: cloudViews,
    };
  }

  /** The payload bytes of a variant (null: withheld), the agent's own path for `+<privacy>`. */
  async function shapeFor(
    v: CloudVariant,
    frame: SourceFrame,
    captured: Buffer,
    edgeView: () => ReturnType<typeof toModelView>,
  ) {
    if (v === 'captured') return { bytes: captured, view: 'full' as const };
    const view = await edgeView();
    if (!v.includes('+')) {
      return shapePayload({ captured, view, shortSide: edge.spec.preprocess.resizeShortSide }, payloadOf(v));
    }
    const prepared = await preparePayload({
      frame: {
        camera: 'calibrate',
        seq: 0,
        capturedAt: 0,
        ptsMs: null,
        name: frame.name,
        truth: frame.truth,
        image: { kind: 'file', file: frame.file },
      },
      captured,
      view,
      payload: payloadOf(v) as PayloadConfig,
      privacy: privacy!.guard,
      preprocess: edge.spec.preprocess,
      now: () => performance.now(),
    });
    return prepared.kind === 'withheld' ? null : prepared.shaped;
  }

  async function flush() {
    for (const v of dirty) await writeAtomic(cloudKey(v), JSON.stringify(cloudCaches.get(v)));
    dirty.clear();
  }
}

/**
 * The predictions as the agent would answer with `fusion.edgeWeight` (see `fuseAnswer`): each
 * payload variant's cloud answer becomes its top 5 re-ranked with the edge's probabilities. The
 * file as captured (`captured`, the cloud-only reference) is left as the cloud answered it.
 */
export function withFusion(predictions: readonly FramePrediction[], edgeWeight: number): FramePrediction[] {
  if (edgeWeight === 0) return [...predictions];
  return predictions.map((p) => {
    const cloud = { ...p.cloud };
    for (const [v, view] of Object.entries(cloud) as [CloudVariant, CloudView][]) {
      if (v === 'captured' || !view.top || view.withheld) continue;
      const fused = fuseAnswer(
        view.top.map(([index, q]) => ({ index, p: q })),
        p.edge,
        edgeWeight,
      );
      cloud[v] = { ...view, top1: fused.index, p: fused.p };
    }
    return { ...p, cloud };
  });
}
