import type { ConfidenceMeasure } from '@squeezegate/shared';
import type { Decision } from '../policy/decision.ts';

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
  | { status: 'unavailable'; reason: string };

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
  error: { code: string; message: string } | null;
  timings: { decodeMs: number; inferMs: number; cloudMs: number | null; totalMs: number };
}
