import { ImageDecodeError } from '@squeezegate/shared';
import type { Logger } from 'pino';
import { type FrameStep, runCameras } from '../cameras/scheduler.ts';
import type { CapturedFrame, FrameSource } from '../source/frame-source.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';

/** What a task's agent does with a camera's frames; the scheduler drives it. */
export interface AgentSteps {
  /** The local stage of one frame; resolves with its pending cloud round trip, if any. */
  step: FrameStep;
  /** Records a frame a live camera dropped (a newer one replaced it before the model took it). */
  dropped(frame: CapturedFrame): void;
  /** Sends the last running totals; call once the camera has ended. */
  flush(): void;
}

/** Runs one source through one agent (the single-camera case of runCameras). */
export async function runOne(
  source: FrameSource,
  steps: AgentSteps,
  options: { maxInFlight: number; log: Logger; signal?: AbortSignal | undefined },
): Promise<void> {
  await runCameras([{ source, step: steps.step }], options);
  steps.flush();
}

/** What every frame record shares, for the running totals. */
interface Tallied {
  decision: { kind: string };
  capturedBytes: number;
  bytesSent: number;
}

/** One device's totals and its throttled report, shared by its cameras' agents. */
export interface SharedTotals {
  totals: Totals;
  /** Sends the totals (at most once a second unless `force`). */
  report: (force?: boolean) => void;
}

/** Running totals the gateway's operators see. */
export interface Totals {
  frames: number;
  offloaded: number;
  capturedBytes: number;
  sentBytes: number;
}

/**
 * Hands each final record on and keeps the running totals the gateway's operators see: sent
 * at most once a second as records come, and once more by `flush` at the end of a run. Several
 * cameras of one device share one reporter (one `totals`), through `shared`.
 */
export function totalsReporter<R extends Tallied>(
  link: GatewayLink | null,
  onRecord: (record: R) => void,
  now: () => number,
  shared?: SharedTotals,
): { record: (record: R) => void; flush: () => void } {
  const totals = shared?.totals ?? { frames: 0, offloaded: 0, capturedBytes: 0, sentBytes: 0 };
  const report = shared?.report ?? ((_force?: boolean) => link?.report(totals));
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
        report();
      }
    },
    flush: () => report(true),
  };
}

/** A frame that could not be processed: its error code (undecodable image or else) and message. */
export function frameFailure(err: unknown): { code: string; message: string } {
  return {
    code: err instanceof ImageDecodeError ? err.code : 'FRAME_FAILED',
    message: err instanceof Error ? err.message : String(err),
  };
}
