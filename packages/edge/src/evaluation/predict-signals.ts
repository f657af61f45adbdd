import { createOnnxClassifier, type ModelId, resolveModel } from '@squeezegate/shared';
import { openDirectorySource } from '../source/directory-source.ts';
import {
  computeEdgeSignals,
  joinSignals,
  measureSignalCost,
  pooledEdgeModel,
  type SignalCost,
  type SignalledPrediction,
} from './edge-signals.ts';
import { type PredictDatasetOptions, predictDataset } from './predict-dataset.ts';

export interface PredictSignalsOptions extends PredictDatasetOptions {
  /** The second edge model of the `alt*` features (default squeezenet1.0-deepcompression). */
  altModel?: ModelId;
  /** Time the extra passes on this many frames (0: not measured). */
  timeFrames?: number;
  /**
   * Also the edge's pooled activations (evaluation only: writes a copy of the edge model with
   * that output, which needs the onnx-proto dev dependency). Default false.
   */
  pooled?: boolean;
}

/**
 * predictDataset, then each frame's edge signals (flip, alt model, pooled activations; cached
 * like the predictions) joined by name, and optionally the extra edge ms per frame of each.
 */
export async function predictDatasetWithSignals(options: PredictSignalsOptions): Promise<
  Omit<Awaited<ReturnType<typeof predictDataset>>, 'predictions'> & {
    predictions: SignalledPrediction[];
    altModel: string;
    cost: SignalCost | null;
  }
> {
  const set = await predictDataset(options);
  const source = await openDirectorySource({ dir: options.dir, limit: options.limit });
  const edgeFile = await resolveModel(options.edgeModel ?? 'squeezenet1.1', options.modelsDir);
  await using edge = await createOnnxClassifier(edgeFile);
  await using pooled = options.pooled
    ? await pooledEdgeModel({ ...edgeFile, cacheDir: options.cacheDir })
    : null;
  await using alt = await createOnnxClassifier(
    await resolveModel(options.altModel ?? 'squeezenet1.0-deepcompression', options.modelsDir),
  );
  // Only the frames predicted: one that could not be read is reported by predictDataset, once.
  const named = new Set(set.predictions.map((p) => p.name));
  const signals = await computeEdgeSignals({
    frames: source.frames.filter((f) => named.has(f.name)),
    edge: pooled ?? edge,
    pooled: pooled !== null,
    alt,
    cacheDir: options.cacheDir,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let cost: SignalCost | null = null;
  if (options.timeFrames) {
    cost = await measureSignalCost({
      frames: source.frames.filter((f) => named.has(f.name)).slice(0, options.timeFrames),
      edge,
      pooledEdge: pooled,
      alt,
    });
  }
  return { ...set, predictions: joinSignals(set.predictions, signals), altModel: alt.spec.id, cost };
}
