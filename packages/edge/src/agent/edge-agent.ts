import { readFile } from 'node:fs/promises';
import {
  type Classifier,
  confidences,
  decodeImage,
  type PayloadConfig,
  type ShapedPayload,
  shapePayload,
  toModelView,
  topK,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { Policy } from '../policy/decision.ts';
import type { PrivacyGuard, RedactionSummary } from '../privacy/privacy-guard.ts';
import { classificationCut } from '../privacy/redact.ts';
import type { DirectorySource, SourceFrame } from '../source/directory-source.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';
import { askCloud } from './ask-cloud.ts';
import type { Answer, FrameRecord } from './frame-record.ts';
import { frameFailure, replayFrames, totalsReporter } from './replay.ts';

export interface EdgeAgentOptions {
  deviceId: string;
  classifier: Classifier;
  labels: readonly string[];
  /** The link to the gateway; null runs edge-only. */
  link: GatewayLink | null;
  policy: Policy;
  payload: PayloadConfig;
  /** Redacts every payload before it leaves and keeps the ledger; null sends payloads as shaped. */
  privacy?: PrivacyGuard | null;
  deadlineMs: number;
  maxInFlight: number;
  logger: Logger;
  /** Receives every frame's one final result. */
  onRecord: (record: FrameRecord) => void;
  now?: () => number;
}

export interface EdgeAgent {
  /** Replays the source to its end (or the signal); resolves when every frame has its result. */
  run(source: DirectorySource, options?: { signal?: AbortSignal }): Promise<void>;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const NO_FACES = { faces: [], scanMs: 0 };

export function createEdgeAgent(options: EdgeAgentOptions): EdgeAgent {
  const { deviceId, classifier, labels, link, policy, payload, deadlineMs, maxInFlight, onRecord } = options;
  const now = options.now ?? (() => performance.now());
  const privacy = options.privacy ?? null;
  const { record, flush } = totalsReporter<FrameRecord>(link, onRecord, now);
  const log = options.logger.child({ component: 'agent', deviceId });
  const answer = (index: number, p: number): Answer => ({
    index,
    label: labels[index] ?? `class ${index}`,
    p,
  });

  /**
   * What leaves for an offloaded frame: with privacy active, cut from the decoded frame with its
   * faces obscured and masks blacked out (or nothing, when the frame shows a face and faces are
   * withheld); otherwise shaped from the captured bytes.
   */
  async function preparePayload(
    bytes: Buffer,
    view: Awaited<ReturnType<typeof toModelView>>,
  ): Promise<
    | { kind: 'payload'; shaped: ShapedPayload; redactions: RedactionSummary; redactMs: number }
    | { kind: 'withheld'; faces: number; redactMs: number }
  > {
    if (!privacy?.active) {
      const shaped = await shapePayload(
        { captured: bytes, view, shortSide: classifier.spec.preprocess.resizeShortSide },
        payload,
      );
      const kept = payload.kind === 'original' && shaped.bytes === bytes;
      return {
        kind: 'payload',
        shaped,
        redactions: { faces: 0, faceMode: 'off', masks: 0, metadata: kept ? 'kept' : 'stripped' },
        redactMs: 0,
      };
    }
    const start = now();
    // The crop is the classifier's own view (the cloud sees exactly what the edge saw): the frame
    // is decoded again only for the other payloads, or to look for faces anywhere in it.
    const fromView = payload.kind === 'crop';
    const decoded = fromView && privacy.config.faces !== 'withhold' ? null : await decodeImage(bytes);
    const image = decoded ?? view.source;
    const scan = decoded ? await privacy.scan(decoded) : NO_FACES;
    const cut = classificationCut(payload.kind, image, classifier.spec.preprocess);
    const out = await privacy.render(image, scan, cut, payload.quality, fromView ? view.pixels : undefined);
    const redactMs = round(now() - start);
    if (out.kind === 'withheld') return { kind: 'withheld', faces: out.faces, redactMs };
    return {
      kind: 'payload',
      shaped: { bytes: out.bytes, view: fromView ? 'crop' : 'full', mime: 'image/jpeg' },
      redactions: out.redactions,
      redactMs,
    };
  }

  /** Runs the local stage; resolves with the pending cloud round trip, if the frame was offloaded. */
  async function processFrame(frame: SourceFrame): Promise<{ cloud: Promise<void> } | null> {
    const t0 = now();
    const frameId = `${deviceId}:${frame.seq}`;
    const base = { frameId, deviceId, seq: frame.seq, file: frame.name, truth: frame.truth };
    let capturedBytes = 0;
    try {
      const bytes = await readFile(frame.file);
      capturedBytes = bytes.length;
      const view = await toModelView(bytes, { preprocess: classifier.spec.preprocess });
      const t1 = now();
      const [result] = await classifier.classify([view]);
      const t2 = now();
      const probs = result!.probs;
      const best = topK(probs, 1)[0]!;
      const confidence = confidences(probs, { temperature: policy.temperature });
      const local = { ...answer(best.index, best.p), confidence };
      const decision = policy.decide({ probs, confidence }, now());
      const timings = { decodeMs: round(t1 - t0), inferMs: round(t2 - t1) };
      if (decision.kind === 'local') {
        record({
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
      const prepared = await preparePayload(bytes, view);
      if (prepared.kind === 'withheld') {
        record({
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
      // The cloud round trip runs alongside the next frames; the caller bounds how many.
      const t3 = now();
      const cloudDone = askCloud(
        link,
        { frameId, seq: frame.seq, local: { index: local.index, label: local.label, p: local.p } },
        shaped,
        deadlineMs,
      ).then(({ outcome: cloud, bytesSent }) => {
        const final =
          cloud.status === 'ok'
            ? { index: cloud.index, label: cloud.label, p: cloud.p, source: 'cloud' as const }
            : { ...answer(best.index, best.p), source: 'local' as const };
        if (cloud.status !== 'ok') log.debug({ frameId, cloud }, 'kept local answer for offloaded frame');
        if (bytesSent > 0) {
          privacy?.record({
            frameId,
            payloadId: frameId,
            payload: payload.kind,
            bytes: shaped.bytes.length,
            reason: decision.reason,
            redactions,
          });
        }
        record({
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
      });
      return { cloud: cloudDone };
    } catch (err) {
      const { code, message } = frameFailure(err);
      log.warn({ frameId, file: frame.name, code, err }, 'frame failed, going on with the next');
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

  return {
    async run(source, { signal } = {}) {
      await replayFrames(source, processFrame, { maxInFlight, log, signal });
      flush();
    },
  };
}
