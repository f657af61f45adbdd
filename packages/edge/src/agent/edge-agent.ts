import { type Classifier, confidences, fuseAnswer, type PayloadConfig, topK } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { FrameStep } from '../cameras/scheduler.ts';
import type { Policy } from '../policy/decision.ts';
import { runExtraPasses } from '../policy/extra-passes.ts';
import { type ExtraNeeds, MissingExtraError } from '../policy/features.ts';
import type { PrivacyGuard } from '../privacy/privacy-guard.ts';
import { classificationCut } from '../privacy/redact.ts';
import type { CapturedFrame, FrameSource } from '../source/frame-source.ts';
import type { CameraEvent } from '../temporal/frigate.ts';
import { createSceneEventBuilder } from '../temporal/scene-events.ts';
import type { SceneGate } from '../temporal/scene-gate.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';
import { INTERRUPTED, type Journal } from '../transport/journal.ts';
import { askCloud } from './ask-cloud.ts';
import { preparePayload } from './classify-payload.ts';
import {
  capturedBytesOf,
  type FrameIdentity,
  frameIdentity,
  gateCheck,
  modelViewOf,
} from './frame-context.ts';
import type { Answer, FrameRecord } from './frame-record.ts';
import { type AgentSteps, frameFailure, runOne, type SharedTotals, totalsReporter } from './replay.ts';
import { createSceneMemory } from './scene-memory.ts';

export interface EdgeAgentOptions {
  deviceId: string;
  /** The camera this agent decides for (video); scene events name it. */
  camera?: string;
  classifier: Classifier;
  labels: readonly string[];
  /** The link to the gateway; null runs edge-only. */
  link: GatewayLink | null;
  policy: Policy;
  /**
   * Extra edge passes the policy reads (`extraPassesFor(config)`; issue 16 §2): the edge model
   * on the mirrored view, and `alt` (loaded by the runtime) on the frame. Null or absent: none.
   */
  extraPasses?: { needs: ExtraNeeds; alt: Classifier | null } | null;
  payload: PayloadConfig;
  /**
   * The edge's weight when an offloaded frame's answer is fused from the cloud's top 5
   * (`fuseAnswer`; config `fusion.edgeWeight`); 0 or absent: the cloud's top-1 as is.
   */
  fusionWeight?: number;
  /** Redacts every payload before it leaves and keeps the ledger; null sends payloads as shaped. */
  privacy?: PrivacyGuard | null;
  deadlineMs: number;
  maxInFlight: number;
  logger: Logger;
  /** Receives every frame's one final result. */
  onRecord: (record: FrameRecord) => void;
  /**
   * Video: the agent's start time (frame ids carry it, see frameIdentity) and the scene gate of
   * this camera (null: every frame goes through the model). A gated camera also asks the cloud
   * once per scene label rather than once per frame.
   */
  video?: {
    runId: string;
    gate: SceneGate | null;
    /** A new local label must hold this many frames before the cloud is asked again (default 1). */
    sceneFrames?: number;
    onEvent?: (event: CameraEvent) => void;
  } | null;
  /** Running totals shared by the cameras of one device (default: this agent's own). */
  totals?: SharedTotals;
  /** Keeps each offloaded frame's local result on disk until its final one is written. */
  journal?: Journal | null;
  now?: () => number;
}

export interface EdgeAgent extends AgentSteps {
  /** Runs one source to its end (or the signal); resolves when every frame has its result. */
  run(source: FrameSource, options?: { signal?: AbortSignal }): Promise<void>;
}

/** The last frame that went through the model, and its final result once known. */
interface Reference {
  frameId: string;
  local: Answer;
  final: Promise<FrameRecord['final']>;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const _NO_FACES = { faces: [], scanMs: 0 };

export function createEdgeAgent(options: EdgeAgentOptions): EdgeAgent {
  const { deviceId, classifier, labels, link, policy, payload, deadlineMs, maxInFlight, onRecord } = options;
  const video = options.video ?? null;
  // The passes the policy reads: as the runtime opened them, or (flip needs no other model) as
  // the policy says. A rule on alt features without its model fails here, not on every frame.
  const needs = options.extraPasses?.needs ?? policy.extras ?? null;
  const extraPasses =
    needs && (needs.flip || needs.alt) ? { needs, alt: options.extraPasses?.alt ?? null } : null;
  if (extraPasses?.needs.alt && !extraPasses.alt) {
    throw new MissingExtraError(
      'the policy reads alt-model features: pass extraPasses.alt (see openExtraPasses)',
    );
  }
  const journal = options.journal ?? null;
  const now = options.now ?? (() => performance.now());
  const privacy = options.privacy ?? null;
  const totals = totalsReporter<FrameRecord>(link, onRecord, now, options.totals);
  // A camera's scene label, for scene events: a change that holds a few frames, not a flicker.
  const scenes =
    video?.onEvent && options.camera ? createSceneEventBuilder({ camera: options.camera }) : null;
  const record = (r: FrameRecord) => {
    totals.record(r);
    if (scenes && r.final && r.capturedAt !== undefined) {
      for (const e of scenes.observe({
        seq: r.seq,
        atMs: r.capturedAt,
        label: r.final.label,
        score: r.final.p,
      }))
        video?.onEvent?.(e);
    }
  };
  const flush = totals.flush;
  const log = options.logger.child({ component: 'agent', deviceId });
  const answer = (index: number, p: number): Answer => ({
    index,
    label: labels[index] ?? `class ${index}`,
    p,
  });

  let reference: Reference | null = null;
  /** The camera's latest result, which a dropped frame keeps. */
  let lastFinal: FrameRecord['final'] = null;
  /** The cloud's answer for the camera's scene (video with the gate on): asked once per scene. */
  const scene = video?.gate ? createSceneMemory<Reference>({ minFrames: video.sceneFrames ?? 1 }) : null;

  /** A frame that takes another's final result: waits for it, then records it as reused. */
  function reuse(
    base: FrameIdentity & { truth: number | null },
    ref: Reference,
    why: { by: 'gate' | 'scene'; reason: string; local?: FrameRecord['local'] },
    t0: number,
  ) {
    const cloud = ref.final.then((final) => {
      record({
        ...base,
        capturedBytes: 0,
        local: why.local ?? null,
        decision: { kind: 'reused', by: why.by, reason: why.reason, from: ref.frameId },
        bytesSent: 0,
        cloud: null,
        final,
        error: null,
        timings: { decodeMs: 0, inferMs: 0, cloudMs: null, totalMs: round(now() - t0) },
      });
    });
    return { cloud, reuse: true };
  }

  /** Runs the local stage; resolves with the pending cloud round trip, if the frame was offloaded. */
  async function processFrame(frame: CapturedFrame): ReturnType<FrameStep> {
    const t0 = now();
    const base = { ...frameIdentity(deviceId, frame, video), truth: frame.truth };
    const { frameId } = base;
    let capturedBytes = 0;
    // Once the model ran: this frame's final result, which later frames may reuse.
    let settle: (final: FrameRecord['final']) => void = () => {};
    let self: Reference | null = null;
    try {
      const unchanged = gateCheck(video?.gate ?? null, frame);
      if (unchanged && reference)
        return reuse(
          base,
          reference,
          { by: 'gate', reason: `scene unchanged since frame ${unchanged.since}` },
          t0,
        );
      const bytes = await capturedBytesOf(frame);
      capturedBytes = bytes?.length ?? (frame.image.kind === 'raw' ? frame.image.raw.pixels.length : 0);
      const view = await modelViewOf(frame, bytes, classifier.spec.preprocess);
      const t1 = now();
      const [result] = await classifier.classify([view]);
      const probs = result!.probs;
      const alt = extraPasses?.alt ?? null;
      const extras = extraPasses
        ? await runExtraPasses({
            needs: extraPasses.needs,
            edge: classifier,
            view,
            alt: alt && { classifier: alt, view: () => modelViewOf(frame, bytes, alt.spec.preprocess) },
          })
        : null;
      // The extra passes are edge inference too: inferMs counts them.
      const t2 = now();
      const best = topK(probs, 1)[0]!;
      const confidence = confidences(probs, { temperature: policy.temperature });
      const local = { ...answer(best.index, best.p), confidence };
      const decision = policy.decide({ probs, confidence, ...(extras ? { extras } : {}) }, now());
      const timings = { decodeMs: round(t1 - t0), inferMs: round(t2 - t1) };
      self = {
        frameId,
        local: answer(best.index, best.p),
        final: new Promise((resolve) => {
          settle = resolve;
        }),
      };
      if (video?.gate) reference = self;
      const finish = (r: FrameRecord) => {
        record(r);
        if (r.final) lastFinal = r.final;
        settle(r.final);
      };
      const asked = decision.kind === 'offload' ? (scene?.lookup(best.index) ?? null) : null;
      if (asked) {
        policy.spent(0); // nothing leaves: a byte budget gets its reservation back
        settle(null);
        reference = asked;
        return reuse(
          base,
          asked,
          { by: 'scene', reason: `scene "${asked.local.label}" already asked`, local },
          t0,
        );
      }
      if (decision.kind === 'local') {
        finish({
          ...base,
          capturedBytes,
          local,
          decision,
          bytesSent: 0,
          cloud: null,
          final: { ...answer(best.index, best.p), source: 'local' },
          error: null,
          timings: { ...timings, cloudMs: null, totalMs: round(now() - t0) },
        });
        return null;
      }
      const prepared = await preparePayload({
        frame,
        captured: bytes,
        view,
        payload,
        privacy,
        preprocess: classifier.spec.preprocess,
        now,
      });
      if (prepared.kind === 'withheld') {
        policy.spent(0);
        finish({
          ...base,
          capturedBytes,
          local,
          decision,
          bytesSent: 0,
          cloud: { status: 'withheld', faces: prepared.faces },
          final: { ...answer(best.index, best.p), source: 'local' },
          error: null,
          timings: { ...timings, redactMs: prepared.redactMs, cloudMs: null, totalMs: round(now() - t0) },
        });
        return null;
      }
      const { shaped, redactions } = prepared;
      policy.spent(shaped.bytes.length);
      scene?.remember(best.index, self);
      // The frame's result if the agent dies before the cloud answers, written at the next start.
      await journal?.hold(frameId, {
        ...base,
        capturedBytes,
        local,
        decision,
        bytesSent: 0,
        cloud: INTERRUPTED,
        final: { ...answer(best.index, best.p), source: 'local' },
        redactions,
        error: null,
        timings: { ...timings, redactMs: prepared.redactMs, cloudMs: null, totalMs: round(now() - t0) },
      } satisfies FrameRecord);
      // The cloud round trip runs alongside the next frames; the caller bounds how many.
      const t3 = now();
      const cloudDone = askCloud(
        link,
        {
          frameId,
          seq: frame.seq,
          local: { index: local.index, label: local.label, p: local.p },
          reason: decision.reason,
          redactions,
        },
        shaped,
        deadlineMs,
      ).then(({ outcome: cloud, top, bytesSent }) => {
        // The cloud's answer, its top classes re-ranked with the edge's view of the whole frame.
        const fused = cloud.status === 'ok' && top ? fuseAnswer(top, probs, options.fusionWeight ?? 0) : null;
        const final = fused
          ? { index: fused.index, label: fused.label, p: fused.p, source: 'cloud' as const }
          : { ...answer(best.index, best.p), source: 'local' as const };
        if (cloud.status !== 'ok') log.debug({ frameId, cloud }, 'kept local answer for offloaded frame');
        if (bytesSent > 0) {
          privacy?.record(
            {
              frameId,
              payloadId: frameId,
              payload: payload.kind,
              bytes: shaped.bytes.length,
              reason: decision.reason,
              redactions,
            },
            {
              bytes: shaped.bytes,
              source: frame.name,
              index: 0,
              region: classificationCut(payload.kind, view.source, classifier.spec.preprocess).region,
            },
          );
        }
        finish({
          ...base,
          capturedBytes,
          local,
          decision,
          bytesSent,
          cloud,
          final,
          redactions,
          error: null,
          timings: {
            ...timings,
            redactMs: prepared.redactMs,
            cloudMs: round(now() - t3),
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
      settle(null);
      if (self && reference === self) reference = null;
      if (self) scene?.forget(self);
      record({
        ...base,
        capturedBytes,
        local: null,
        decision: { kind: 'failed', reason: message },
        bytesSent: 0,
        cloud: null,
        final: null,
        error: { code, message },
        timings: { decodeMs: 0, inferMs: 0, cloudMs: null, totalMs: round(now() - t0) },
      });
      return null;
    }
  }

  /** A live camera's frame replaced by a newer one before the model took it. */
  function dropped(frame: CapturedFrame) {
    const base = { ...frameIdentity(deviceId, frame, video), truth: frame.truth };
    record({
      ...base,
      capturedBytes: 0,
      local: null,
      decision: { kind: 'dropped', reason: 'a newer frame replaced it while the model was busy' },
      bytesSent: 0,
      cloud: null,
      final: lastFinal,
      error: null,
      timings: { decodeMs: 0, inferMs: 0, cloudMs: null, totalMs: 0 },
    });
  }

  const steps: AgentSteps = { step: processFrame, dropped, flush };
  return { ...steps, run: (source, { signal } = {}) => runOne(source, steps, { maxInFlight, log, signal }) };
}
