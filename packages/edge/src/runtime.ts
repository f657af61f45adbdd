import path from 'node:path';
import {
  type CameraStats,
  type Classifier,
  createOnnxClassifier,
  type Detector,
  definedOnly,
  type EdgeConfig,
  loadLabels,
  ModelLoadError,
  openDetector,
  resolveModel,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { createDetectAgent } from './agent/detect-agent.ts';
import type { DetectRecord } from './agent/detect-record.ts';
import { createEdgeAgent } from './agent/edge-agent.ts';
import type { FrameRecord } from './agent/frame-record.ts';
import type { AgentSteps, SharedTotals, Totals } from './agent/replay.ts';
import { closeCameras, type OpenCamera, openCameras } from './cameras/camera-set.ts';
import { runCameras } from './cameras/scheduler.ts';
import { createPolicy } from './policy/create-policy.ts';
import { type OpenedExtraPasses, openExtraPasses } from './policy/extra-passes.ts';
import { createFleetBar, underFleetBar } from './policy/fleet-bar.ts';
import type { PrivacyGuard } from './privacy/privacy-guard.ts';
import { type EventSink, fanOut } from './sinks/event-sink.ts';
import { openSinks } from './sinks/open-sinks.ts';
import type { Scale } from './source/frame-source.ts';
import type { CameraEvent } from './temporal/frigate.ts';
import { createSceneGate, type SceneGate, type SceneGateOptions } from './temporal/scene-gate.ts';
import type { TrackerOptions } from './temporal/tracker.ts';
import { createGatewayLink, type GatewayLink } from './transport/gateway-link.ts';
import { INTERRUPTED, openJournal } from './transport/journal.ts';
import { openSpool } from './transport/spool.ts';

interface RuntimeBase {
  /** The cameras: one for `source`, or each of `cameras`. */
  readonly cameras: readonly OpenCamera[];
  readonly link: GatewayLink | null;
  /** The first camera's privacy guard (every camera's, with one camera). */
  readonly privacy: PrivacyGuard;
  /** Runs every camera through the agent; resolves when each has ended and every frame has its result. */
  run(options?: { signal?: AbortSignal }): Promise<void>;
  /** Each camera's counts (what the stats message carries). */
  cameraStats(): CameraStats[];
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
  /** Every track and scene event of every camera (besides the configured sinks). */
  onEvent?: (event: CameraEvent) => void;
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

/** The face detector (shared by every camera), named as the reason to start when it is missing. */
async function openFaces(config: Readonly<EdgeConfig>): Promise<Detector | null> {
  const privacies = [
    config.privacy,
    ...(config.cameras ?? []).flatMap((c) => (c.privacy ? [c.privacy] : [])),
  ];
  if (privacies.every((p) => p.faces === 'off')) return null;
  return openDetector({
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
}

/** What every task needs: the cameras, their privacy guards (sharing the face detector), the link, the event sinks. */
async function openCommon(options: CommonOptions, scale: Scale) {
  const { config, logger, connect = true } = options;
  const faces = await openFaces(config);
  let cameras: OpenCamera[];
  try {
    cameras = await openCameras({ config, scale, faces, logger });
  } catch (err) {
    await faces?.close();
    throw err;
  }
  const sinks = await openSinks(config.video, logger);
  const events: EventSink = fanOut(sinks);
  const spool = config.spool ? await openSpool(config.spool) : null;
  if (spool?.stale)
    logger.warn({ stale: spool.stale, dir: config.spool?.dir }, 'removed stale spooled frames');
  // With a spool, frames awaiting the cloud survive a kill: their local result is written at the next start.
  const journal = config.spool ? await openJournal(path.join(config.spool.dir, 'journal')) : null;
  if (journal?.recovered.length)
    logger.warn(
      { frames: journal.recovered.length },
      'frames the previous run left waiting for the cloud: recorded with their local answer',
    );
  // The gateway's fleet-wide offload bar, when it holds a fleet budget: it overrules the cameras' policies.
  const fleetBar = createFleetBar();
  const link = connect
    ? await createGatewayLink({
        url: [config.gatewayUrl, ...(config.failover ?? [])],
        deviceId: config.deviceId,
        token: config.token,
        logger,
        reconnect: config.reconnect,
        busyBackoff: config.busyBackoff,
        spool,
        onLate: (frameId, result) =>
          logger.info({ frameId, label: result.top[0]?.label }, 'late cloud answer; the final result stands'),
        onPolicy: (message) => {
          if (fleetBar.apply(message, performance.now()))
            logger.debug(
              { seq: message.seq, threshold: message.threshold, reason: message.reason },
              'fleet bar',
            );
        },
      })
    : null;
  const onEvent = (camera: OpenCamera) => (event: CameraEvent) => {
    camera.counter.event(event);
    events.write(event);
    options.onEvent?.(event);
  };
  const close = async () => {
    await closeCameras(cameras);
    await link?.close();
    await events.close();
    await faces?.close();
  };
  return { cameras, link, onEvent, journal, fleetBar, close };
}

type Common = Awaited<ReturnType<typeof openCommon>>;

/** The agent's start, in frame ids: a restarted agent never reuses an id the gateway answered. */
const runIdNow = () => Date.now().toString(36);

function runtimeOf(
  common: Common,
  options: CommonOptions & { onRecord: (record: never) => void },
  agents: readonly AgentSteps[],
  closeModel: () => Promise<void>,
): RuntimeBase {
  const { config, logger } = options;
  // Records left in the journal by a killed run, in the shape this task writes.
  const onRecord = options.onRecord as (record: Record<string, unknown>) => void;
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      await common.close();
      await closeModel();
    })();
    return closed;
  };
  const lanes = common.cameras.map((camera, k) => ({ source: camera.source, step: agents[k]!.step }));
  return {
    cameras: common.cameras,
    link: common.link,
    privacy: common.cameras[0]!.privacy,
    cameraStats: () => common.cameras.map((c) => c.counter.stats()),
    async run({ signal } = {}) {
      for (const entry of common.journal?.recovered ?? []) {
        onRecord({ ...entry.record, cloud: INTERRUPTED });
        await entry.release();
      }
      await runCameras(lanes, { maxInFlight: config.maxInFlight, log: logger, signal });
      for (const agent of agents) agent.flush();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Shared running totals of every camera of this device, sent with each camera's counts, once a second. */
function sharedTotals(common: Common): SharedTotals {
  const totals: Totals = { frames: 0, offloaded: 0, capturedBytes: 0, sentBytes: 0 };
  const video = common.cameras.some((c) => c.video) || common.cameras.length > 1;
  let last = Number.NEGATIVE_INFINITY;
  const report = (force = false) => {
    if (!force && performance.now() - last < 1000) return;
    last = performance.now();
    common.link?.report({
      ...totals,
      ...(video ? { cameras: common.cameras.map((c) => c.counter.stats()) } : {}),
    });
  };
  return { totals, report };
}

/** Each camera's records: counted for its stats, then handed on. */
const counted =
  <R extends { decision: { kind: string } }>(camera: OpenCamera, onRecord: (r: R) => void) =>
  (r: R) => {
    camera.counter.count(r.decision);
    onRecord(r);
  };

/** The scene gate of a video camera, from the config (null: off, or not a video camera). */
const gateFor = (camera: OpenCamera, config: Readonly<EdgeConfig>): SceneGate | null => {
  const { enabled, ...thresholds } = config.video.gate;
  return camera.video && enabled ? createSceneGate(definedOnly(thresholds) as SceneGateOptions) : null;
};

/**
 * Wires one classifying agent from its config: verifies and loads the edge model and the face
 * detector, opens every camera, connects to the gateway. Throws ModelLoadError / SourceError
 * when it cannot start.
 */
export async function createEdgeRuntime(options: EdgeRuntimeOptions): Promise<EdgeRuntime> {
  const { config, logger, onRecord } = options;
  const labels = await loadLabels(config.modelsDir);
  const ownsClassifier = options.classifier === undefined;
  const classifier =
    options.classifier ?? (await createOnnxClassifier(await resolveModel(config.model, config.modelsDir)));
  let common: Common;
  try {
    common = await openCommon(options, { shortSide: classifier.spec.preprocess.resizeShortSide });
  } catch (err) {
    if (ownsClassifier) await classifier.close();
    throw err;
  }
  // The extra edge passes each camera's policy reads (a mirrored view, the alt model).
  const passes: (OpenedExtraPasses | null)[] = [];
  try {
    for (const camera of common.cameras)
      passes.push(await openExtraPasses({ config: camera.settings.policy, modelsDir: config.modelsDir }));
  } catch (err) {
    for (const p of passes) await p?.close();
    await common.close();
    if (ownsClassifier) await classifier.close();
    throw err;
  }
  const shared = sharedTotals(common);
  const runId = runIdNow();
  const agents = common.cameras.map((camera, i) => {
    const agent = createEdgeAgent({
      extraPasses: passes[i] ?? null,
      deviceId: config.deviceId,
      classifier,
      labels,
      link: common.link,
      policy: underFleetBar(createPolicy(camera.settings.policy), common.fleetBar),
      payload: camera.settings.payload,
      fusionWeight: config.fusion.edgeWeight,
      privacy: camera.privacy,
      deadlineMs: config.deadlineMs,
      maxInFlight: config.maxInFlight,
      camera: camera.id,
      logger: logger.child({ camera: camera.id }),
      onRecord: counted(camera, onRecord),
      video: camera.video
        ? {
            runId,
            gate: gateFor(camera, config),
            sceneFrames: config.video.sceneFrames,
            onEvent: common.onEvent(camera),
          }
        : null,
      totals: shared,
      journal: common.journal,
    });
    camera.onDrop = agent.dropped;
    return agent;
  });
  const base = runtimeOf(common, options, agents, async () => {
    for (const p of passes) await p?.close();
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
  let common: Common;
  try {
    const { width, height } = detector.spec.input;
    common = await openCommon(options, { longSide: Math.max(width, height) });
  } catch (err) {
    if (ownsDetector) await detector.close();
    throw err;
  }
  const shared = sharedTotals(common);
  const runId = runIdNow();
  const { enabled: tracking, ...trackerOptions } = config.video.track;
  const agents = common.cameras.map((camera) => {
    const agent = createDetectAgent({
      deviceId: config.deviceId,
      detector,
      link: common.link,
      config: config.detect,
      privacy: camera.privacy,
      quality: camera.settings.payload.quality,
      deadlineMs: config.deadlineMs,
      maxInFlight: config.maxInFlight,
      logger: logger.child({ camera: camera.id }),
      onRecord: counted(camera, onRecord),
      video: camera.video
        ? {
            runId,
            gate: gateFor(camera, config),
            tracking: tracking ? (definedOnly(trackerOptions) as TrackerOptions) : null,
          }
        : null,
      onEvent: common.onEvent(camera),
      totals: shared,
      journal: common.journal,
    });
    camera.onDrop = agent.dropped;
    camera.counter.tracksOpen = agent.tracksOpen;
    return agent;
  });
  const base = runtimeOf(common, options, agents, async () => {
    if (ownsDetector) await detector.close();
  });
  return { ...base, detector };
}
