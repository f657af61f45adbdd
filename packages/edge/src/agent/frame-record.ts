import type { ConfidenceMeasure } from '@squeezegate/shared';
import type { Decision } from '../policy/decision.ts';
import type { RedactionSummary } from '../privacy/privacy-guard.ts';
import type { FrameIdentity } from './frame-context.ts';

export interface Answer {
  index: number;
  label: string;
  p: number;
}

/** What became of the cloud request for an offloaded frame. */
export type CloudOutcome =
  | ({ status: 'ok'; model: string; inferMs: number; rttMs: number } & Answer)
  | { status: 'timeout'; afterMs: number }
  /** Spooled while the gateway was unreachable, given up after the spool's time-to-live. */
  | { status: 'expired'; afterMs: number }
  /** The gateway shed the frame (its inference queue was full). */
  | { status: 'busy'; message: string }
  | { status: 'error'; code: string; message: string }
  | { status: 'unavailable'; reason: string }
  /** Privacy: the frame shows faces and `faces: withhold` keeps such frames on the device. */
  | { status: 'withheld'; faces: number }
  /** The agent stopped (or was killed) while the frame waited; recorded at the next start. */
  | { status: 'interrupted'; reason: string };

/**
 * What time decided on video, besides the policy: `reused`, the frame took the final result of
 * frame `from` (the scene gate found it unchanged, or its scene's label was already asked);
 * `dropped`, a live camera's newer frame replaced it before the model could take it (it keeps the
 * camera's last result).
 */
export type TemporalDecision =
  /** `gate`: the model did not run; `scene`: it ran, and the scene's cloud answer was reused. */
  | { kind: 'reused'; by: 'gate' | 'scene'; reason: string; from: string }
  | { kind: 'dropped'; reason: string };

/** The one final result of a frame, written as a JSON line. */
export interface FrameRecord extends FrameIdentity {
  /** Ground-truth class index, when the source is labelled. */
  truth: number | null;
  /** Size of the frame as captured (the file). */
  capturedBytes: number;
  local: (Answer & { confidence: Record<ConfidenceMeasure, number> }) | null;
  decision: Decision | TemporalDecision | { kind: 'failed'; reason: string };
  /** Bytes of the frame envelope sent to the gateway (0 when kept local). */
  bytesSent: number;
  cloud: CloudOutcome | null;
  /** The answer kept: the cloud's when it came in time, else the local one; null if the frame failed. */
  final: (Answer & { source: 'cloud' | 'local' }) | null;
  /** What was done to the payload before it left (offloaded frames only). */
  redactions?: RedactionSummary;
  error: { code: string; message: string } | null;
  timings: {
    decodeMs: number;
    inferMs: number;
    /** Face search, cut and redaction of the payload (offloaded frames only). */
    redactMs?: number;
    cloudMs: number | null;
    totalMs: number;
  };
}
