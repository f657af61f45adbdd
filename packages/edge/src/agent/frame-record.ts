import type { ConfidenceMeasure } from '@squeezegate/shared';
import type { Decision } from '../policy/decision.ts';
import type { RedactionSummary } from '../privacy/privacy-guard.ts';

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
  | { status: 'withheld'; faces: number };

/** The one final result of a frame, written as a JSON line. */
export interface FrameRecord {
  frameId: string;
  deviceId: string;
  seq: number;
  file: string;
  /** Ground-truth class index, when the source is labelled. */
  truth: number | null;
  /** Size of the frame as captured (the file). */
  capturedBytes: number;
  local: (Answer & { confidence: Record<ConfidenceMeasure, number> }) | null;
  decision: Decision | { kind: 'failed'; reason: string };
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
