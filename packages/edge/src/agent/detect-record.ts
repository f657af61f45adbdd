import type { Box } from '@squeezegate/shared';
import type { CloudVerdict } from '../detect/cloud-verdict.ts';
import type { RedactionSummary } from '../privacy/privacy-guard.ts';
import type { FrameIdentity } from './frame-context.ts';
import type { CloudOutcome, TemporalDecision } from './frame-record.ts';

/** One object in a frame's final result, and whose word it rests on. */
export interface FinalDetection {
  box: Box;
  label: string;
  classIndex: number;
  /** The detector's score. */
  score: number;
  /** `cloud`: the cloud classifier confirmed or relabelled the crop; `local`: the detector alone. */
  source: 'local' | 'cloud';
  /** The cloud's finer name for it (an ImageNet class, e.g. "cab" for a car). */
  refined?: string;
  /** Video with tracking: the object's track, stable across frames. */
  trackId?: number;
}

/** One payload a detect frame sent: an uncertain object's crop, or the downscaled frame. */
export interface ObjectOffload {
  payloadId: string;
  kind: 'object' | 'frame';
  /** The detection the crop verifies (objects only). */
  detection?: { box: Box; label: string; score: number };
  bytes: number;
  cloud: CloudOutcome;
  verdict: CloudVerdict | null;
  redactions: RedactionSummary | null;
}

/** The one final result of a detect frame, written as a JSON line. */
export interface DetectRecord extends FrameIdentity {
  task: 'detect';
  capturedBytes: number;
  /** Frame size as decoded. */
  width: number;
  height: number;
  model: string;
  /** What the detector alone reports: every candidate at `minScore` (the edge-only answer). */
  local: FinalDetection[];
  /** The final answer: confident and unverified detections, and what the cloud made of the crops. */
  detections: FinalDetection[];
  decision: { kind: 'local' | 'offload' | 'failed'; reason: string } | TemporalDecision;
  offloads: ObjectOffload[];
  /** The cloud's class for a downscaled frame sent because nothing was found. */
  scene: { index: number; label: string; p: number } | null;
  /** Faces found when the frame had something to send (null: not searched). */
  faces: number | null;
  /** Envelope bytes sent for all the frame's payloads. */
  bytesSent: number;
  error: { code: string; message: string } | null;
  timings: {
    decodeMs: number;
    detectMs: number;
    /** Cutting, redacting and encoding every payload the frame sends (0 when it sends none). */
    payloadMs: number;
    cloudMs: number | null;
    totalMs: number;
  };
}
