import {
  createOnnxClassifier,
  type Detector,
  type ModelId,
  openDetector,
  type PrivacyConfig,
  resolveModel,
} from '@squeezegate/shared';
import { createPrivacyGuard } from '../privacy/privacy-guard.ts';
import { openDirectorySource } from '../source/directory-source.ts';
import { type CloudVariant, type FramePrediction, predictSet, privacyKey } from './predictions.ts';

export interface PredictDatasetOptions {
  dir: string;
  modelsDir: string;
  edgeModel?: ModelId;
  cloudModel?: ModelId;
  variants: readonly CloudVariant[];
  /**
   * The agent's privacy config: variants named by `agentVariant` for it are redacted by the
   * agent's own guard (its face search loaded from `modelsDir`). Ledger and dump are not written.
   */
  privacy?: PrivacyConfig | undefined;
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
  const key = options.privacy ? privacyKey(options.privacy) : null;
  let faces: Detector | null = null;
  let guard: Awaited<ReturnType<typeof createPrivacyGuard>> | null = null;
  try {
    if (key !== null && options.privacy) {
      const { ledger: _ledger, payloadDump: _dump, ...privacy } = options.privacy;
      if (privacy.faces !== 'off') {
        faces = await openDetector({
          id: privacy.faceModel,
          modelsDir: options.modelsDir,
          threads: privacy.faceThreads,
        });
      }
      guard = await createPrivacyGuard({ config: privacy, faceDetector: faces });
    }
    const result = await predictSet({
      frames: source.frames,
      edge,
      cloud,
      variants: options.variants,
      privacy: guard && key ? { guard, key } : undefined,
      cacheDir: options.cacheDir,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { ...result, labelled: source.labelled, edgeModel: edge.spec.id, cloudModel: cloud.spec.id };
  } finally {
    await guard?.close();
    await faces?.close();
  }
}
