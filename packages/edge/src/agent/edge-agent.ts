import { readFile } from 'node:fs/promises';
import {
  type Classifier,
  confidences,
  ImageDecodeError,
  type PayloadConfig,
  type ShapedPayload,
  shapePayload,
  toModelView,
  topK,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { Policy } from '../policy/decision.ts';
import type { DirectorySource, SourceFrame } from '../source/directory-source.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';
import type { Answer, CloudOutcome, FrameRecord } from './frame-record.ts';

export interface EdgeAgentOptions {
  deviceId: string;
  classifier: Classifier;
  labels: readonly string[];
  /** The link to the gateway; null runs edge-only. */
  link: GatewayLink | null;
  policy: Policy;
  payload: PayloadConfig;
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

export function createEdgeAgent(options: EdgeAgentOptions): EdgeAgent {
  const { deviceId, classifier, labels, link, policy, payload, deadlineMs, maxInFlight, onRecord } = options;
  const now = options.now ?? (() => performance.now());
  // Running totals the gateway's operators see (sent now and then, and at the end of a run).
  const totals = { frames: 0, offloaded: 0, capturedBytes: 0, sentBytes: 0 };
  let lastReport = Number.NEGATIVE_INFINITY;
  const record = (r: FrameRecord) => {
    totals.frames++;
    if (r.decision.kind === 'offload') totals.offloaded++;
    totals.capturedBytes += r.capturedBytes;
    totals.sentBytes += r.bytesSent;
    onRecord(r);
    if (now() - lastReport >= 1000) {
      lastReport = now();
      link?.report(totals);
    }
  };
  const log = options.logger.child({ component: 'agent', deviceId });
  const answer = (index: number, p: number): Answer => ({
    index,
    label: labels[index] ?? `class ${index}`,
    p,
  });

  async function offload(
    frame: SourceFrame,
    frameId: string,
    shaped: ShapedPayload,
    local: Answer,
  ): Promise<{ cloud: CloudOutcome; bytesSent: number }> {
    if (!link) return { cloud: { status: 'unavailable', reason: 'no gateway configured' }, bytesSent: 0 };
    const { answer: reply, bytesSent } = await link.request(
      {
        type: 'frame',
        frameId,
        seq: frame.seq,
        view: shaped.view,
        mime: shaped.mime,
        capturedAt: Date.now(),
        local: { index: local.index, label: local.label, p: local.p },
      },
      shaped.bytes,
      { deadlineMs },
    );
    switch (reply.kind) {
      case 'result': {
        const best = reply.result.top[0]!;
        return {
          cloud: {
            status: 'ok',
            ...answer(best.index, best.p),
            label: best.label,
            model: reply.result.model,
            inferMs: reply.result.inferMs,
            rttMs: round(reply.rttMs),
          },
          bytesSent,
        };
      }
      case 'timeout':
        return { cloud: { status: 'timeout', afterMs: reply.afterMs }, bytesSent };
      case 'expired':
        return { cloud: { status: 'expired', afterMs: reply.afterMs }, bytesSent };
      case 'error':
        return {
          cloud:
            reply.code === 'BUSY'
              ? { status: 'busy', message: reply.message }
              : { status: 'error', code: reply.code, message: reply.message },
          bytesSent,
        };
      case 'unavailable':
        return { cloud: { status: 'unavailable', reason: reply.reason }, bytesSent };
    }
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
      const shaped = await shapePayload(
        { captured: bytes, view, shortSide: classifier.spec.preprocess.resizeShortSide },
        payload,
      );
      policy.spent(shaped.bytes.length);
      // The cloud round trip runs alongside the next frames; the caller bounds how many.
      const t3 = now();
      const cloudDone = offload(frame, frameId, shaped, local).then(({ cloud, bytesSent }) => {
        const final =
          cloud.status === 'ok'
            ? { index: cloud.index, label: cloud.label, p: cloud.p, source: 'cloud' as const }
            : { ...answer(best.index, best.p), source: 'local' as const };
        if (cloud.status !== 'ok') log.debug({ frameId, cloud }, 'kept local answer for offloaded frame');
        record({
          ...base,
          capturedBytes,
          local,
          decision,
          bytesSent,
          cloud,
          final,
          error: null,
          timings: { ...timings, cloudMs: round(now() - t3), totalMs: round(now() - t0) },
        });
      });
      return { cloud: cloudDone };
    } catch (err) {
      const code = err instanceof ImageDecodeError ? err.code : 'FRAME_FAILED';
      const message = err instanceof Error ? err.message : String(err);
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
      const inFlight = new Set<Promise<void>>();
      for await (const frame of source.replay(signal ? { signal } : {})) {
        const pending = await processFrame(frame);
        if (!pending) continue;
        const entry = pending.cloud.catch((err: unknown) => log.error({ err }, 'offload bookkeeping failed'));
        inFlight.add(entry);
        void entry.finally(() => inFlight.delete(entry));
        if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      link?.report(totals);
    },
  };
}
