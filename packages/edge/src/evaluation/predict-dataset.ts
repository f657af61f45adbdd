import { createOnnxClassifier, type ModelId, resolveModel } from '@squeezegate/shared';
import { openDirectorySource } from '../source/directory-source.ts';
import { type CloudVariant, type FramePrediction, predictSet } from './predictions.ts';

export interface PredictDatasetOptions {
  dir: string;
  modelsDir: string;
  edgeModel?: ModelId;
  cloudModel?: ModelId;
  variants: readonly CloudVariant[];
  cacheDir: string;
  limit?: number | undefined;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Loads both models and runs (or reads from cache) the inference pass over a directory. */
export async function predictDataset(options: PredictDatasetOptions): Promise<{
  predictions: FramePrediction[];
  skipped: { name: string; error: string }[];
  labelled: boolean;
  edgeModel: string;
  cloudModel: string;
}> {
  const source = await openDirectorySource({ dir: options.dir, limit: options.limit });
  await using edge = await createOnnxClassifier(
    await resolveModel(options.edgeModel ?? 'squeezenet1.1', options.modelsDir),
  );
  await using cloud = await createOnnxClassifier(
    await resolveModel(options.cloudModel ?? 'mobilenetv2-12-int8', options.modelsDir),
  );
  const result = await predictSet({
    frames: source.frames,
    edge,
    cloud,
    variants: options.variants,
    cacheDir: options.cacheDir,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { ...result, labelled: source.labelled, edgeModel: edge.spec.id, cloudModel: cloud.spec.id };
}
