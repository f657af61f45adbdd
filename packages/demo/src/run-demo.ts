import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  createEdgeRuntime,
  describePolicy,
  type EdgeRuntime,
  type FrameRecord,
  openDirectorySource,
  summarize,
} from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import {
  createOnnxClassifier,
  type EdgeConfig,
  EdgeConfigSchema,
  type FusionConfig,
  GatewayConfigSchema,
  type ModelId,
  type PayloadConfig,
  type PolicyConfig,
  type PrivacyConfig,
  resolveModel,
  toModelView,
  topK,
} from '@squeezegate/shared';
import type { Logger } from 'pino';

export interface DemoOptions {
  datasetDir: string;
  modelsDir: string;
  edges: number;
  limit?: number | undefined;
  edgeModel?: ModelId;
  /** Default: threshold on maxProb at 0.5. */
  policy?: PolicyConfig;
  /** Default: the model-sized crop, WebP q80. */
  payload?: PayloadConfig;
  /** How offloaded frames' answers are fused with the edge's (default edge weight 0.25). */
  fusion?: FusionConfig;
  /** Default: faces pixelated (UltraFace-320), no masks. */
  privacy?: Partial<PrivacyConfig>;
  deadlineMs?: number;
  logger: Logger;
  /** Called once the agents are up, with the number of frames they will replay. */
  onStart?: (frames: number) => void;
  /** Every frame's final record, as it is produced. */
  onRecord?: (record: FrameRecord) => void;
  /** Called as the cloud-only reference pass advances. */
  onReferenceProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The run's summary; accuracies are fractions, null when the frames carry no labels. */
export interface DemoSummary {
  dataset: string;
  edges: number;
  edgeModel: string;
  cloudModel: string;
  /** The policy in words, e.g. "offload when maxProb < 0.5, sends crop q85". */
  policy: string;
  /** What is done to faces in payloads. */
  faces: PrivacyConfig['faces'];
  /** Faces obscured in the payloads that left. */
  facesRedacted: number;
  frames: number;
  offloaded: number;
  offloadRate: number;
  held: number;
  cloudAnswered: number;
  failed: number;
  edgeTop1: number | null;
  cascadeTop1: number | null;
  /** Cloud model on every frame as captured: what sending everything would score. */
  cloudTop1: number | null;
  /** Every byte the agents wrote to their sockets (upgrade, hello, framing, frames). */
  bytesUp: number;
  /** Bytes of the frames as captured (the image files). */
  bytesFrames: number;
  bytesUpRatio: number;
  latencyMs: { p50: number | null; p95: number | null };
  elapsedMs: number;
}

export interface DemoResult {
  summary: DemoSummary;
  records: FrameRecord[];
  gatewayCounters: { framesIn: number; bytesIn: number; results: number; errors: number };
  linkStats: { deviceId: string; messageBytes: number; wireBytes: number; framesSent: number }[];
}

/**
 * The main job: a gateway and `edges` agents on loopback replaying a directory of images, each
 * agent taking every `edges`-th frame; then the cloud model alone over every frame, for reference.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { datasetDir, modelsDir, edges, limit, logger } = options;
  const started = performance.now();
  const devices = Array.from({ length: edges }, (_, i) => ({
    id: `edge-${i + 1}`,
    token: randomBytes(18).toString('base64url'),
  }));
  const gatewayConfig = GatewayConfigSchema.parse({ host: '127.0.0.1', port: 0, modelsDir, devices });
  await using gateway = await createGateway({ config: gatewayConfig, logger });

  const edgeModel = await resolveModel(options.edgeModel ?? 'squeezenet1.1', modelsDir);
  // One session serves every agent: they are separate cameras only in their sockets and frames.
  await using sharedClassifier = await createOnnxClassifier(edgeModel);
  const records: FrameRecord[] = [];
  const runtimes: EdgeRuntime[] = [];
  const edgeConfigs: EdgeConfig[] = [];
  try {
    for (const [i, device] of devices.entries()) {
      const config = EdgeConfigSchema.parse({
        deviceId: device.id,
        token: device.token,
        gatewayUrl: gateway.edgeUrl,
        modelsDir,
        model: edgeModel.spec.id,
        policy: options.policy,
        payload: options.payload,
        fusion: options.fusion,
        privacy: options.privacy,
        deadlineMs: options.deadlineMs ?? 2000,
        source: { dir: datasetDir, limit, offset: i, stride: edges },
      });
      edgeConfigs.push(config);
      runtimes.push(
        await createEdgeRuntime({
          config,
          logger,
          classifier: sharedClassifier,
          onRecord: (r) => {
            records.push(r);
            options.onRecord?.(r);
          },
        }),
      );
    }
    options.onStart?.((await openDirectorySource({ dir: datasetDir, limit })).frames.length);
    await Promise.all(runtimes.map((rt) => rt.run(options.signal ? { signal: options.signal } : {})));
  } finally {
    await Promise.all(runtimes.map((rt) => rt.close()));
  }
  const linkStats = runtimes.map((rt, i) => ({ deviceId: devices[i]!.id, ...rt.link!.stats() }));
  const { devicesConnected: _, ...gatewayCounters } = gateway.counters();

  const cloudTop1 = await cloudReference({ datasetDir, modelsDir, limit, records, options });
  const s = summarize(records);
  const bytesUp = linkStats.reduce((sum, l) => sum + l.wireBytes, 0);
  return {
    summary: {
      dataset: datasetDir,
      edges,
      edgeModel: edgeModel.spec.id,
      cloudModel: gatewayConfig.cloudModel,
      policy: `${describePolicy(edgeConfigs[0]!.policy, edgeConfigs[0]!.payload)}${edgeConfigs[0]!.fusion.edgeWeight > 0 ? `, answers fused (edge weight ${edgeConfigs[0]!.fusion.edgeWeight})` : ''}`,
      faces: edgeConfigs[0]!.privacy.faces,
      facesRedacted: records.reduce((n, r) => n + (r.bytesSent > 0 ? (r.redactions?.faces ?? 0) : 0), 0),
      frames: s.frames,
      offloaded: s.offloaded,
      offloadRate: s.offloadRate,
      held: s.held,
      cloudAnswered: s.cloudAnswered,
      failed: s.failed,
      edgeTop1: s.edgeTop1,
      cascadeTop1: s.cascadeTop1,
      cloudTop1,
      bytesUp,
      bytesFrames: s.bytesFrames,
      bytesUpRatio: s.bytesFrames > 0 ? bytesUp / s.bytesFrames : 0,
      latencyMs: s.latencyMs,
      elapsedMs: Math.round(performance.now() - started),
    },
    records,
    gatewayCounters,
    linkStats,
  };
}

/** Top-1 of the cloud model on every labelled frame as captured (full view, no re-encoding). */
async function cloudReference(args: {
  datasetDir: string;
  modelsDir: string;
  limit: number | undefined;
  records: readonly FrameRecord[];
  options: DemoOptions;
}): Promise<number | null> {
  const source = await openDirectorySource({ dir: args.datasetDir, limit: args.limit });
  const labelled = source.frames.filter((f) => f.truth !== null);
  if (labelled.length === 0) return null;
  const cloud = await createOnnxClassifier(await resolveModel('mobilenetv2-12-int8', args.modelsDir));
  try {
    let correct = 0;
    let done = 0;
    for (const frame of labelled) {
      if (args.options.signal?.aborted) break;
      try {
        const view = await toModelView(await readFile(frame.file), { preprocess: cloud.spec.preprocess });
        const [out] = await cloud.classify([view]);
        if (topK(out!.probs, 1)[0]!.index === frame.truth) correct++;
      } catch {
        // An unreadable frame counts as a miss, as it does for the cascade.
      }
      args.options.onReferenceProgress?.(++done, labelled.length);
    }
    return correct / labelled.length;
  } finally {
    await cloud.close();
  }
}
