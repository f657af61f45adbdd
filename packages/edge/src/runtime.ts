import {
  type Classifier,
  createOnnxClassifier,
  type Detector,
  type EdgeConfig,
  loadLabels,
  ModelLoadError,
  openDetector,
  resolveModel,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { createDetectAgent } from './agent/detect-agent.ts';
import type { DetectRecord } from './agent/detect-record.ts';
import { createEdgeAgent, type EdgeAgent } from './agent/edge-agent.ts';
import type { FrameRecord } from './agent/frame-record.ts';
import { createPolicy } from './policy/create-policy.ts';
import { createPrivacyGuard, type PrivacyGuard } from './privacy/privacy-guard.ts';
import { type DirectorySource, openDirectorySource } from './source/directory-source.ts';
import { createGatewayLink, type GatewayLink } from './transport/gateway-link.ts';
import { openSpool } from './transport/spool.ts';

interface RuntimeBase {
  readonly source: DirectorySource;
  readonly link: GatewayLink | null;
  readonly privacy: PrivacyGuard;
  /** Replays the source through the agent; resolves when every frame has its final result. */
  run(options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface EdgeRuntime extends RuntimeBase {
  readonly classifier: Classifier;
}

export interface DetectRuntime extends RuntimeBase {
  readonly detector: Detector;
}

interface CommonOptions {
  config: Readonly<EdgeConfig>;
  logger: Logger;
  /** false runs edge-only, with no gateway. */
  connect?: boolean;
}

export interface EdgeRuntimeOptions extends CommonOptions {
  onRecord: (record: FrameRecord) => void;
  /** Pre-loaded classifier (tests, or several agents sharing one); else loaded from config. */
  classifier?: Classifier;
}

export interface DetectRuntimeOptions extends CommonOptions {
  onRecord: (record: DetectRecord) => void;
  /** Pre-loaded detector; else loaded from config. */
  detector?: Detector;
}

/** What every task needs: the source, the privacy guard (with its face detector), the link. */
async function openCommon(options: CommonOptions) {
  const { config, logger, connect = true } = options;
  const source = await openDirectorySource(config.source);
  const faces =
    config.privacy.faces === 'off'
      ? null
      : await openDetector({
          id: config.privacy.faceModel,
          modelsDir: config.modelsDir,
          threads: config.privacy.faceThreads,
        }).catch((err: unknown) => {
          if (!(err instanceof ModelLoadError)) throw err;
          throw new ModelLoadError(
            err.code,
            err.file,
            `${err.message} (The face detector redacts faces before any pixel leaves; --faces off runs without it.)`,
            { cause: err },
          );
        });
  let privacy: PrivacyGuard;
  try {
    privacy = await createPrivacyGuard({
      config: config.privacy,
      faceDetector: faces,
      onLedgerError: (err) => logger.error({ err }, 'privacy ledger write failed'),
    });
  } catch (err) {
    await faces?.close();
    throw err;
  }
  const spool = config.spool ? await openSpool(config.spool) : null;
  if (spool?.stale)
    logger.warn({ stale: spool.stale, dir: config.spool?.dir }, 'removed stale spooled frames');
  const link = connect
    ? await createGatewayLink({
        url: config.gatewayUrl,
        deviceId: config.deviceId,
        token: config.token,
        logger,
        reconnect: config.reconnect,
        spool,
        onLate: (frameId, result) =>
          logger.info({ frameId, label: result.top[0]?.label }, 'late cloud answer; the final result stands'),
      })
    : null;
  const close = async () => {
    await link?.close();
    await privacy.close();
    await faces?.close();
  };
  return { source, privacy, link, close };
}

function runtimeOf(
  common: Awaited<ReturnType<typeof openCommon>>,
  agent: EdgeAgent,
  closeModel: () => Promise<void>,
): RuntimeBase {
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      await common.close();
      await closeModel();
    })();
    return closed;
  };
  return {
    source: common.source,
    link: common.link,
    privacy: common.privacy,
    run: (runOptions) => agent.run(common.source, runOptions),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Wires one classifying agent from its config: verifies and loads the edge model and the face
 * detector, opens the frame source, connects to the gateway. Throws ModelLoadError / SourceError
 * when it cannot start.
 */
export async function createEdgeRuntime(options: EdgeRuntimeOptions): Promise<EdgeRuntime> {
  const { config, logger, onRecord } = options;
  const labels = await loadLabels(config.modelsDir);
  const ownsClassifier = options.classifier === undefined;
  const classifier =
    options.classifier ?? (await createOnnxClassifier(await resolveModel(config.model, config.modelsDir)));
  let common: Awaited<ReturnType<typeof openCommon>>;
  try {
    common = await openCommon(options);
  } catch (err) {
    if (ownsClassifier) await classifier.close();
    throw err;
  }
  const agent = createEdgeAgent({
    deviceId: config.deviceId,
    classifier,
    labels,
    link: common.link,
    policy: createPolicy(config.policy),
    payload: config.payload,
    privacy: common.privacy,
    deadlineMs: config.deadlineMs,
    maxInFlight: config.maxInFlight,
    logger,
    onRecord,
  });
  const base = runtimeOf(common, agent, async () => {
    if (ownsClassifier) await classifier.close();
  });
  return { ...base, classifier };
}

/** Wires one detecting agent (`task: detect`) from its config; throws like createEdgeRuntime. */
export async function createDetectRuntime(options: DetectRuntimeOptions): Promise<DetectRuntime> {
  const { config, logger, onRecord } = options;
  const ownsDetector = options.detector === undefined;
  const detector =
    options.detector ?? (await openDetector({ id: config.detect.model, modelsDir: config.modelsDir }));
  let common: Awaited<ReturnType<typeof openCommon>>;
  try {
    common = await openCommon(options);
  } catch (err) {
    if (ownsDetector) await detector.close();
    throw err;
  }
  const agent = createDetectAgent({
    deviceId: config.deviceId,
    detector,
    link: common.link,
    config: config.detect,
    privacy: common.privacy,
    quality: config.payload.quality,
    deadlineMs: config.deadlineMs,
    maxInFlight: config.maxInFlight,
    logger,
    onRecord,
  });
  const base = runtimeOf(common, agent, async () => {
    if (ownsDetector) await detector.close();
  });
  return { ...base, detector };
}
