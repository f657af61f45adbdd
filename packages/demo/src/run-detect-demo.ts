import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  createDetectRuntime,
  type DetectRecord,
  type DetectRuntime,
  type DetectSummary,
  openDirectorySource,
  summarizeDetections,
} from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import {
  type DetectConfig,
  type Detection,
  type DetectionMetrics,
  EdgeConfigSchema,
  evaluateDetections,
  GatewayConfigSchema,
  loadGroundTruth,
  openDetector,
  type PrivacyConfig,
} from '@squeezegate/shared';
import type { Logger } from 'pino';

export interface DetectDemoOptions {
  /** A folder of images, or a set with `images/` and a `labels.json` ground truth. */
  datasetDir: string;
  modelsDir: string;
  edges: number;
  limit?: number | undefined;
  detect?: Partial<DetectConfig>;
  privacy?: Partial<PrivacyConfig>;
  quality?: number;
  deadlineMs?: number;
  logger: Logger;
  onStart?: (frames: number) => void;
  onRecord?: (record: DetectRecord) => void;
  signal?: AbortSignal;
}

export interface DetectDemoSummary extends DetectSummary {
  dataset: string;
  edges: number;
  detector: string;
  cloudModel: string;
  faces: PrivacyConfig['faces'];
  /** Every byte the agents wrote to their sockets. */
  bytesUp: number;
  /** Against `labels.json` (when the set has one): the detector alone, and the cascade's final answer. */
  accuracy: { labelledFrames: number; edge: DetectionMetrics; cascade: DetectionMetrics } | null;
  elapsedMs: number;
}

/** Where the frames and (optionally) their ground truth are. */
function locate(datasetDir: string): { frames: string; labels: string | null } {
  const images = path.join(datasetDir, 'images');
  const frames = existsSync(images) ? images : datasetDir;
  const labels = [path.join(datasetDir, 'labels.json'), path.join(path.dirname(frames), 'labels.json')].find(
    existsSync,
  );
  return { frames, labels: labels ?? null };
}

/**
 * The detect task end to end: a gateway and `edges` detecting agents on loopback; uncertain
 * objects go up as crops, faces pixelated, and the final detections are scored when the set is labelled.
 */
export async function runDetectDemo(
  options: DetectDemoOptions,
): Promise<{ summary: DetectDemoSummary; records: DetectRecord[] }> {
  const { modelsDir, edges, limit, logger } = options;
  const started = performance.now();
  const { frames, labels } = locate(options.datasetDir);
  const devices = Array.from({ length: edges }, (_, i) => ({
    id: `edge-${i + 1}`,
    token: randomBytes(18).toString('base64url'),
  }));
  const gatewayConfig = GatewayConfigSchema.parse({ host: '127.0.0.1', port: 0, modelsDir, devices });
  await using gateway = await createGateway({ config: gatewayConfig, logger });
  const configs = devices.map((device, i) =>
    EdgeConfigSchema.parse({
      deviceId: device.id,
      token: device.token,
      gatewayUrl: gateway.edgeUrl,
      modelsDir,
      task: 'detect',
      detect: options.detect,
      privacy: options.privacy,
      payload: { kind: 'crop', quality: options.quality ?? 85 },
      deadlineMs: options.deadlineMs ?? 2000,
      source: { dir: frames, limit, offset: i, stride: edges },
    }),
  );
  const first = configs[0]!;
  // One detector session serves every agent, as one classifier does in the classify demo.
  await using detector = await openDetector({ id: first.detect.model, modelsDir });
  const records: DetectRecord[] = [];
  const runtimes: DetectRuntime[] = [];
  try {
    for (const config of configs) {
      runtimes.push(
        await createDetectRuntime({
          config,
          logger,
          detector,
          onRecord: (r) => {
            records.push(r);
            options.onRecord?.(r);
          },
        }),
      );
    }
    options.onStart?.((await openDirectorySource({ dir: frames, limit })).frames.length);
    await Promise.all(runtimes.map((rt) => rt.run(options.signal ? { signal: options.signal } : {})));
  } finally {
    await Promise.all(runtimes.map((rt) => rt.close()));
  }
  records.sort((a, b) => a.file.localeCompare(b.file));
  const bytesUp = runtimes.reduce((sum, rt) => sum + (rt.link?.stats().wireBytes ?? 0), 0);
  return {
    summary: {
      dataset: options.datasetDir,
      edges,
      detector: first.detect.model,
      cloudModel: gatewayConfig.cloudModel,
      faces: first.privacy.faces,
      ...summarizeDetections(records),
      bytesUp,
      accuracy: labels ? await score(labels, records, first.detect.model) : null,
      elapsedMs: Math.round(performance.now() - started),
    },
    records,
  };
}

/** Precision/recall of the detector alone (every candidate at its `minScore`) and of the cascade. */
async function score(
  labelsFile: string,
  records: readonly DetectRecord[],
  model: string,
): Promise<DetectDemoSummary['accuracy']> {
  const truth = new Map((await loadGroundTruth(labelsFile)).images.map((i) => [i.file, i]));
  const labelled = records.filter(
    (r) => (truth.get(r.file)?.annotated_classes.length ?? 0) > 0 && r.error === null,
  );
  if (labelled.length === 0) return null;
  const classMap = model.startsWith('squeezedet') ? { pedestrian: 'person' } : {};
  const evaluate = (pick: (r: DetectRecord) => readonly Detection[]) =>
    evaluateDetections(
      labelled.map((r) => ({ truth: truth.get(r.file)!, detections: pick(r) })),
      { classMap },
    );
  return {
    labelledFrames: labelled.length,
    edge: evaluate((r) => r.local),
    cascade: evaluate((r) => r.detections),
  };
}
