import { ImageDecodeError } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { DirectorySource, SourceFrame } from '../source/directory-source.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';

/** The local stage of one frame; resolves with its pending cloud round trip, if it sent anything. */
export type FrameStep = (frame: SourceFrame) => Promise<{ cloud: Promise<void> } | null>;

/**
 * Replays a source through `step`, one frame's local stage at a time, while at most
 * `maxInFlight` cloud round trips run alongside; resolves when every frame has its result.
 */
export async function replayFrames(
  source: DirectorySource,
  step: FrameStep,
  options: { maxInFlight: number; log: Logger; signal?: AbortSignal | undefined },
): Promise<void> {
  const { maxInFlight, log, signal } = options;
  const inFlight = new Set<Promise<void>>();
  for await (const frame of source.replay(signal ? { signal } : {})) {
    const pending = await step(frame);
    if (!pending) continue;
    const entry = pending.cloud.catch((err: unknown) => log.error({ err }, 'offload bookkeeping failed'));
    inFlight.add(entry);
    void entry.finally(() => inFlight.delete(entry));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** What every frame record shares, for the running totals. */
interface Tallied {
  decision: { kind: string };
  capturedBytes: number;
  bytesSent: number;
}

/**
 * Hands each final record on and keeps the running totals the gateway's operators see: sent
 * at most once a second as records come, and once more by `flush` at the end of a run.
 */
export function totalsReporter<R extends Tallied>(
  link: GatewayLink | null,
  onRecord: (record: R) => void,
  now: () => number,
): { record: (record: R) => void; flush: () => void } {
  const totals = { frames: 0, offloaded: 0, capturedBytes: 0, sentBytes: 0 };
  let lastReport = Number.NEGATIVE_INFINITY;
  return {
    record(r) {
      totals.frames++;
      if (r.decision.kind === 'offload') totals.offloaded++;
      totals.capturedBytes += r.capturedBytes;
      totals.sentBytes += r.bytesSent;
      onRecord(r);
      if (now() - lastReport >= 1000) {
        lastReport = now();
        link?.report(totals);
      }
    },
    flush: () => link?.report(totals),
  };
}

/** A frame that could not be processed: its error code (undecodable image or else) and message. */
export function frameFailure(err: unknown): { code: string; message: string } {
  return {
    code: err instanceof ImageDecodeError ? err.code : 'FRAME_FAILED',
    message: err instanceof Error ? err.message : String(err),
  };
}
