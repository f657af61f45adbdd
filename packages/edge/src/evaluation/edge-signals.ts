import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Classifier,
  createOnnxClassifier,
  type ModelSpec,
  type ModelView,
  toModelView,
} from '@squeezegate/shared';
import { runExtraPasses } from '../policy/extra-passes.ts';
import type { SourceFrame } from '../source/directory-source.ts';
import type { FramePrediction } from './predictions.ts';

/**
 * Per-image edge signals beyond the edge's probabilities (issue 16 §2): the edge model on the
 * mirrored view, a second edge model (alt) on the frame, and the edge's pooled activations
 * before its classifier.
 */
export interface EdgeSignals {
  flip: Float32Array;
  alt: Float32Array;
  /** Null when the pass ran without the pooled output (`pooled: false`). */
  pooled: Float32Array | null;
}

export type SignalledPrediction = FramePrediction & { signals: EdgeSignals };

/** Name of the graph output `pooledEdgeModel` adds. */
export const POOLED_OUTPUT = 'pooled';

/**
 * The edge model with a second output: the global average of the activations its classifier
 * reads (SqueezeNet: the last fire module's concat). Written once under `cacheDir/models`; the
 * logits are untouched. onnx-proto (a dev dependency) is loaded only here, for evaluation.
 */
export async function pooledEdgeModel(options: {
  spec: ModelSpec;
  path: string;
  cacheDir: string;
}): Promise<Classifier> {
  const { spec, cacheDir } = options;
  const file = path.join(cacheDir, 'models', `${spec.id}-pooled-${spec.sha256.slice(0, 12)}.onnx`);
  try {
    await access(file);
  } catch {
    const { default: onnxProto } = await import('onnx-proto');
    const { onnx } = onnxProto;
    const model = onnx.ModelProto.decode(await readFile(options.path));
    const graph = model.graph!;
    graph.node ??= [];
    graph.output ??= [];
    const nodes = graph.node;
    const outputs = graph.output;
    const output = outputs.find((o) => o.name === spec.output.name);
    // The classifier layer: walk back from the output to the first Conv/Gemm/MatMul; expose its input.
    const byOutput = new Map(nodes.map((n) => [n.output?.[0], n]));
    let node = byOutput.get(spec.output.name);
    while (node && node.opType !== 'Conv' && node.opType !== 'Gemm' && node.opType !== 'MatMul') {
      node = byOutput.get(node.input?.[0] ?? '');
    }
    const source = node?.input?.[0];
    if (!source || !output) throw new Error(`${spec.id}: no classifier layer found to expose its input`);
    nodes.push(
      onnx.NodeProto.create({ opType: 'GlobalAveragePool', input: [source], output: ['pooled_4d'] }),
      onnx.NodeProto.create({ opType: 'Flatten', input: ['pooled_4d'], output: [POOLED_OUTPUT] }),
    );
    outputs.push(onnx.ValueInfoProto.create({ name: POOLED_OUTPUT }));
    await writeAtomic(file, onnx.ModelProto.encode(model).finish());
  }
  return createOnnxClassifier({ spec, path: file, features: { output: POOLED_OUTPUT } });
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
}

async function readF32(file: string): Promise<Float32Array | null> {
  try {
    const buf = await readFile(file);
    return new Float32Array(new Uint8Array(buf).buffer);
  } catch {
    return null;
  }
}

const f32Bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface SignalsOptions {
  frames: readonly SourceFrame[];
  /** The edge model; with its pooled output (`pooledEdgeModel`) when `pooled` is set. */
  edge: Classifier;
  /** Also the pooled activations (default false: the flip and alt passes only). */
  pooled?: boolean;
  alt: Classifier;
  /** Cached per model sha256 × image sha256, beside predictSet's cache. */
  cacheDir: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The signals of every frame, by name, through the same passes the agent runs
 * (`runExtraPasses`). The alt model's probabilities are cached where predictSet caches an edge
 * model's, so an alt-edge run of the bench reuses them.
 */
export async function computeEdgeSignals(options: SignalsOptions): Promise<Map<string, EdgeSignals>> {
  const { frames, edge, alt, cacheDir, onProgress, signal, pooled: wantPooled = false } = options;
  const dirOf = (prefix: string, spec: ModelSpec) =>
    path.join(cacheDir, `${prefix}-${spec.id}-${spec.sha256.slice(0, 12)}`);
  const flipDir = dirOf('flip', edge.spec);
  const pooledDir = dirOf('pooled', edge.spec);
  const altDir = dirOf('edge', alt.spec);
  const out = new Map<string, EdgeSignals>();
  for (const [i, frame] of frames.entries()) {
    if (signal?.aborted) throw signal.reason;
    const bytes = await readFile(frame.file);
    const hash = createHash('sha256').update(bytes).digest('hex');
    const file = (dir: string) => path.join(dir, `${hash}.f32`);
    let [flip, pooled, altProbs] = await Promise.all([
      readF32(file(flipDir)),
      wantPooled ? readF32(file(pooledDir)) : null,
      readF32(file(altDir)),
    ]);
    if (!flip || !altProbs) {
      const view: ModelView = await toModelView(bytes, { preprocess: edge.spec.preprocess });
      const extras = await runExtraPasses({
        needs: { flip: true, alt: true },
        edge,
        view,
        alt: { classifier: alt, view: () => toModelView(bytes, { preprocess: alt.spec.preprocess }) },
      });
      flip = extras.flip as Float32Array;
      altProbs = extras.alt as Float32Array;
      await writeAtomic(file(flipDir), f32Bytes(flip));
      await writeAtomic(file(altDir), f32Bytes(altProbs));
    }
    if (wantPooled && !pooled) {
      const view = await toModelView(bytes, { preprocess: edge.spec.preprocess });
      pooled = (await edge.classify([view]))[0]!.features ?? null;
      if (!pooled) throw new Error(`${edge.spec.id} has no pooled output: open it with pooledEdgeModel`);
      await writeAtomic(file(pooledDir), f32Bytes(pooled));
    }
    out.set(frame.name, { flip, alt: altProbs, pooled });
    onProgress?.(i + 1, frames.length);
  }
  return out;
}

/** Joins each prediction to its signals by frame name; a frame without signals is an error. */
export function joinSignals(
  predictions: readonly FramePrediction[],
  signals: ReadonlyMap<string, EdgeSignals>,
): SignalledPrediction[] {
  return predictions.map((p) => {
    const s = signals.get(p.name);
    if (!s) throw new Error(`no edge signals for ${p.name}`);
    return { ...p, signals: s };
  });
}

/** Extra edge milliseconds per frame of each signal, measured on this machine. */
export interface SignalCost {
  frames: number;
  /** The edge's own view + inference, for scale. */
  baseMs: number;
  flipMs: number;
  altMs: number;
  pooledMs: number | null;
}

/**
 * Times each extra pass over `frames` (uncached): the mirrored pass, the alt model's view and
 * inference, and the pooled output (the same edge run with and without it, interleaved).
 */
export async function measureSignalCost(options: {
  frames: readonly SourceFrame[];
  edge: Classifier;
  /** The edge with its pooled output; absent: pooledMs is null. */
  pooledEdge?: Classifier | null;
  alt: Classifier;
}): Promise<SignalCost> {
  const { frames, edge, pooledEdge, alt } = options;
  const sum = { base: 0, flip: 0, alt: 0, pooled: 0 };
  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  // Warm-up, so session start-up is not counted.
  if (frames[0]) {
    const bytes = await readFile(frames[0].file);
    const v = await toModelView(bytes, { preprocess: edge.spec.preprocess });
    await edge.classify([v]);
    await pooledEdge?.classify([v]);
    await alt.classify([await toModelView(bytes, { preprocess: alt.spec.preprocess })]);
  }
  for (const frame of frames) {
    const bytes = await readFile(frame.file);
    let view: ModelView | null = null;
    sum.base += await time(async () => {
      view = await toModelView(bytes, { preprocess: edge.spec.preprocess });
      await edge.classify([view]);
    });
    const v = view!;
    sum.flip += await time(() => runExtraPasses({ needs: { flip: true, alt: false }, edge, view: v }));
    sum.alt += await time(() =>
      runExtraPasses({
        needs: { flip: false, alt: true },
        edge,
        view: v,
        alt: { classifier: alt, view: () => toModelView(bytes, { preprocess: alt.spec.preprocess }) },
      }),
    );
    if (pooledEdge) {
      const plain = await time(() => edge.classify([v]));
      const withPooled = await time(() => pooledEdge.classify([v]));
      sum.pooled += withPooled - plain;
    }
  }
  const n = Math.max(1, frames.length);
  return {
    frames: frames.length,
    baseMs: sum.base / n,
    flipMs: sum.flip / n,
    altMs: sum.alt / n,
    pooledMs: pooledEdge ? sum.pooled / n : null,
  };
}
