import { type DetectConfig, type Detection, type Detector, decodeImage } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { FrameStep } from '../cameras/scheduler.ts';
import type { CloudVerdict } from '../detect/cloud-verdict.ts';
import { candidateFloor, planObjects } from '../detect/object-plan.ts';
import type { GuardedPayload, PrivacyGuard } from '../privacy/privacy-guard.ts';
import { classificationCut, squareAround } from '../privacy/redact.ts';
import type { CapturedFrame } from '../source/frame-source.ts';
import type { CameraEvent } from '../temporal/frigate.ts';
import type { SceneGate } from '../temporal/scene-gate.ts';
import type { TrackerOptions } from '../temporal/tracker.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';
import { INTERRUPTED, type Journal } from '../transport/journal.ts';
import { type Job, sendObjects } from './detect-offload.ts';
import type { DetectRecord, FinalDetection } from './detect-record.ts';
import { createDetectTracking, type DetectTracking } from './detect-tracking.ts';
import type { EdgeAgent } from './edge-agent.ts';
import { capturedBytesOf, frameIdentity, gateCheck } from './frame-context.ts';
import { frameFailure, runOne, type SharedTotals, totalsReporter } from './replay.ts';

/** An empty frame with a near miss sends the frame at most once per this many analysed frames. */
const FRAME_SEND_EVERY = 50;

/** The cloud classifier's view (torchvision): object crops are sent at its input size. */
const CLOUD_VIEW = { resizeShortSide: 256, centerCrop: 224 };

export interface DetectAgentOptions {
  deviceId: string;
  detector: Detector;
  /** The link to the gateway; null runs edge-only. */
  link: GatewayLink | null;
  config: DetectConfig;
  /** Cuts, redacts and accounts for every payload (faces off and no masks: plain cuts). */
  privacy: PrivacyGuard;
  /** JPEG quality of crops and frames. */
  quality: number;
  deadlineMs: number;
  maxInFlight: number;
  logger: Logger;
  onRecord: (record: DetectRecord) => void;
  /** Classes worth a crop (default: those ImageNet can verify, see isVerifiable). */
  verifiable?: (label: string) => boolean;
  /**
   * Video: frame ids carry `runId`; the scene gate skips the detector on still frames; tracking
   * (null: off) sends each uncertain object once and emits its events to `onEvent`.
   */
  video?: { runId: string; gate: SceneGate | null; tracking: TrackerOptions | null } | null;
  onEvent?: (event: CameraEvent) => void;
  /** Running totals shared by the cameras of one device (default: this agent's own). */
  totals?: SharedTotals;
  /** Keeps each offloading frame's local result on disk until its final one is written. */
  journal?: Journal | null;
  now?: () => number;
}

export interface DetectAgent extends EdgeAgent {
  /** Tracks open now (events published, not yet ended). */
  tracksOpen(): number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const tenth = (px: number) => Math.round(px * 10) / 10;

/**
 * The detect task: finds objects locally; a frame whose detections are all confident stays on
 * the device, an uncertain detection sends only its padded crop for the cloud classifier to
 * verify or refine, and an empty frame with a near miss sends the downscaled frame.
 */
export function createDetectAgent(options: DetectAgentOptions): DetectAgent {
  const { deviceId, detector, link, config, privacy, quality, deadlineMs, maxInFlight, onRecord } = options;
  const now = options.now ?? (() => performance.now());
  const log = options.logger.child({ component: 'detect-agent', deviceId });
  const minScore = config.minScore ?? detector.spec.thresholds.score;
  const floor = candidateFloor(config, minScore);
  const totals = totalsReporter<DetectRecord>(link, onRecord, now, options.totals);
  const video = options.video ?? null;
  const journal = options.journal ?? null;
  const emit = (events: readonly CameraEvent[]) => {
    for (const e of events) options.onEvent?.(e);
  };
  let tracking: DetectTracking | null = null;
  /** The last frame that went through the detector, and its final detections once known. */
  let reference: { frameId: string; final: Promise<FinalDetection[]> } | null = null;
  let lastFinal: FinalDetection[] = [];
  let lastFrameSend = Number.NEGATIVE_INFINITY;
  let lastScene: DetectRecord['scene'] = null;
  const record = (r: DetectRecord) => {
    if (r.decision.kind !== 'dropped') lastFinal = r.detections;
    totals.record(r);
  };
  const final = (
    d: Detection,
    source: FinalDetection['source'],
    refined?: string,
    trackId?: number,
  ): FinalDetection => ({
    box: [tenth(d.box[0]), tenth(d.box[1]), tenth(d.box[2]), tenth(d.box[3])],
    label: d.label,
    classIndex: d.classIndex,
    score: Math.round(d.score * 1000) / 1000,
    source,
    ...(refined ? { refined } : {}),
    ...(trackId !== undefined ? { trackId } : {}),
  });
  /** A detection as the cloud's verdict leaves it: confirmed, relabelled, or dropped (null). */
  const judged = (d: Detection, v: CloudVerdict | null, trackId?: number): FinalDetection | null => {
    if (v?.kind === 'confirmed') return final(d, 'cloud', v.refined, trackId);
    if (v?.kind === 'relabelled') {
      const classIndex = detector.labels.indexOf(v.label);
      return { ...final(d, 'cloud', v.refined, trackId), label: v.label, classIndex };
    }
    if (v?.kind === 'rejected') return null;
    return d.score >= minScore ? final(d, 'local', undefined, trackId) : null;
  };
  const empty = {
    offloads: [],
    scene: null,
    faces: null,
    bytesSent: 0,
    error: null,
  };

  async function processFrame(frame: CapturedFrame): ReturnType<FrameStep> {
    const t0 = now();
    const base = {
      task: 'detect' as const,
      ...frameIdentity(deviceId, frame, video),
      model: detector.spec.id,
    };
    const { frameId } = base;
    let capturedBytes = 0;
    // Once the detector ran: this frame's final detections, which later frames may reuse.
    let settle: (d: FinalDetection[]) => void = () => {};
    let self: { frameId: string; final: Promise<FinalDetection[]> } | null = null;
    try {
      const unchanged = gateCheck(video?.gate ?? null, frame);
      if (unchanged && reference) {
        const ref = reference;
        emit(tracking?.idle(frame.capturedAt) ?? []);
        const cloud = ref.final.then((detections) =>
          record({
            ...base,
            ...empty,
            capturedBytes: 0,
            width: frame.image.kind === 'raw' ? frame.image.raw.width : 0,
            height: frame.image.kind === 'raw' ? frame.image.raw.height : 0,
            local: [],
            detections,
            decision: {
              kind: 'reused',
              by: 'gate',
              reason: `scene unchanged since frame ${unchanged.since}`,
              from: ref.frameId,
            },
            timings: { decodeMs: 0, detectMs: 0, payloadMs: 0, cloudMs: null, totalMs: round(now() - t0) },
          }),
        );
        return { cloud, reuse: true };
      }
      const bytes = await capturedBytesOf(frame);
      const image = frame.image.kind === 'raw' ? frame.image.raw : await decodeImage(bytes!);
      capturedBytes = bytes?.length ?? image.pixels.length;
      const t1 = now();
      const { detections: candidates } = await detector.detect(image, {
        scoreThreshold: floor,
        tiling: config.tiling,
      });
      const t2 = now();
      const plan = planObjects(candidates, config, minScore, options.verifiable);
      if (video?.tracking && frame.image.kind === 'raw') {
        tracking ??= createDetectTracking({
          camera: frame.camera,
          config,
          frame: { width: image.width, height: image.height },
          tracker: video.tracking,
        });
      }
      const tracked = tracking?.update({ seq: frame.seq, atMs: frame.capturedAt }, candidates, plan.verify);
      if (tracked) {
        emit(tracked.events);
        // A still-tentative track keeps the detector running, so it resolves (or vanishes) fast.
        if (tracking?.pending) video?.gate?.reset();
        plan.verify = tracked.verify;
        if (plan.sendFrame && frame.seq - lastFrameSend < FRAME_SEND_EVERY) plan.sendFrame = false;
      }
      const trackOf = (d: Detection) => tracked?.trackOf.get(d);
      const verifying = new Set(plan.verify);
      const edgeOnly = candidates.filter((d) => d.score >= minScore);
      const local = candidates
        .filter((d) => !verifying.has(d))
        .map((d) => judged(d, tracked?.judged.get(d) ?? null, trackOf(d)))
        .filter((d): d is FinalDetection => d !== null);
      const frameBase = {
        ...base,
        capturedBytes,
        width: image.width,
        height: image.height,
        local: edgeOnly.map((d) => final(d, 'local')),
      };
      const timings = { decodeMs: round(t1 - t0), detectMs: round(t2 - t1) };
      self = { frameId, final: new Promise<FinalDetection[]>((resolve) => (settle = resolve)) };
      if (video?.gate) reference = self;
      if (plan.verify.length === 0 && !plan.sendFrame) {
        settle(local);
        record({
          ...frameBase,
          detections: local,
          decision: { kind: 'local', reason: plan.reason },
          offloads: [],
          scene: tracked ? lastScene : null,
          faces: null,
          bytesSent: 0,
          error: null,
          timings: { ...timings, payloadMs: 0, cloudMs: null, totalMs: round(now() - t0) },
        });
        return null;
      }
      const jobs: Job[] = plan.verify.map((d, k) => ({
        payloadId: `${frameId}#o${k}`,
        kind: 'object',
        detection: d,
        cut: {
          region: squareAround(d.box, config.cropPadding, image),
          width: CLOUD_VIEW.centerCrop,
          height: CLOUD_VIEW.centerCrop,
        },
      }));
      if (plan.sendFrame) lastFrameSend = frame.seq;
      if (plan.sendFrame)
        jobs.push({
          payloadId: `${frameId}#frame`,
          kind: 'frame',
          cut: classificationCut('frame', image, CLOUD_VIEW),
        });
      const scan = await privacy.scan(image);
      const rendered: GuardedPayload[] = [];
      for (const job of jobs) rendered.push(await privacy.render(image, scan, job.cut, quality));
      const t3 = now();
      const payloadMs = round(t3 - t2);
      const withheld = rendered.some((r) => r.kind === 'withheld');
      if (!withheld) {
        // The frame's result if the agent dies before the cloud answers: the detector's own word.
        const fallback = plan.verify.map((d) => judged(d, null, trackOf(d))).filter((d) => d !== null);
        await journal?.hold(frameId, {
          ...frameBase,
          detections: [...local, ...fallback].sort((a, b) => b.score - a.score),
          decision: { kind: 'offload', reason: `${plan.reason}; ${INTERRUPTED.reason}` },
          offloads: [],
          scene: null,
          faces: scan.faces.length,
          bytesSent: 0,
          error: null,
          timings: { ...timings, payloadMs, cloudMs: null, totalMs: round(now() - t0) },
        } satisfies DetectRecord);
      }
      const cloudDone = sendObjects({
        jobs,
        rendered,
        link,
        frame: { frameId, seq: frame.seq, name: frame.name },
        reason: plan.reason,
        privacy,
        relabelTo: detector.labels,
        deadlineMs,
        boxOf: (d) => final(d, 'local').box,
      }).then((offloads) => {
        const detections = [...local];
        let scene: DetectRecord['scene'] = tracked ? lastScene : null;
        for (const [k, o] of offloads.entries()) {
          const d = jobs[k]!.detection;
          if (!d) {
            if (o.cloud.status === 'ok') scene = { index: o.cloud.index, label: o.cloud.label, p: o.cloud.p };
            lastScene = scene;
            continue;
          }
          const trackId = trackOf(d);
          if (trackId !== undefined && o.verdict) tracking?.judge(trackId, o.verdict);
          const kept = judged(d, o.verdict, trackId);
          if (kept) detections.push(kept);
          else
            log.debug({ frameId, detection: o.detection, verdict: o.verdict }, 'cloud rejected a detection');
        }
        detections.sort((a, b) => b.score - a.score);
        settle(detections);
        record({
          ...frameBase,
          detections,
          decision: withheld
            ? { kind: 'local', reason: `${plan.reason}; withheld: ${scan.faces.length} face(s) in the frame` }
            : { kind: 'offload', reason: plan.reason },
          offloads,
          scene,
          faces: scan.faces.length,
          bytesSent: offloads.reduce((s, o) => s + o.bytes, 0),
          error: null,
          timings: {
            ...timings,
            payloadMs,
            cloudMs: withheld ? null : round(now() - t3),
            totalMs: round(now() - t0),
          },
        });
        return journal?.release(frameId);
      });
      return { cloud: cloudDone };
    } catch (err) {
      const { code, message } = frameFailure(err);
      log.warn({ frameId, file: frame.name, code, err }, 'frame failed, going on with the next');
      video?.gate?.reset();
      // Frames waiting on this one take nothing from it, and no later frame reuses it.
      settle([]);
      if (self && reference === self) reference = null;
      record({
        ...base,
        capturedBytes,
        width: 0,
        height: 0,
        local: [],
        detections: [],
        decision: { kind: 'failed', reason: message },
        offloads: [],
        scene: null,
        faces: null,
        bytesSent: 0,
        error: { code, message },
        timings: { decodeMs: 0, detectMs: 0, payloadMs: 0, cloudMs: null, totalMs: round(now() - t0) },
      });
      return null;
    }
  }

  /** A live camera's frame replaced by a newer one before the detector took it: keeps the last result. */
  function dropped(frame: CapturedFrame) {
    const raw = frame.image.kind === 'raw' ? frame.image.raw : null;
    record({
      ...base0(frame),
      ...empty,
      capturedBytes: 0,
      width: raw?.width ?? 0,
      height: raw?.height ?? 0,
      local: [],
      detections: lastFinal,
      decision: { kind: 'dropped', reason: 'a newer frame replaced it while the detector was busy' },
      timings: { decodeMs: 0, detectMs: 0, payloadMs: 0, cloudMs: null, totalMs: 0 },
    });
  }
  const base0 = (frame: CapturedFrame) => ({
    task: 'detect' as const,
    ...frameIdentity(deviceId, frame, video),
    model: detector.spec.id,
  });
  const flush = () => {
    emit(tracking?.flush() ?? []);
    totals.flush();
  };
  const steps = { step: processFrame, dropped, flush };
  return {
    ...steps,
    tracksOpen: () => tracking?.open ?? 0,
    run: (source, { signal } = {}) => runOne(source, steps, { maxInFlight, log, signal }),
  };
}
