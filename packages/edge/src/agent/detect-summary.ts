import type { DetectRecord } from './detect-record.ts';
import { percentile } from './summary.ts';

export interface DetectSummary {
  frames: number;
  failed: number;
  /** Frames that sent at least one payload. */
  offloadedFrames: number;
  /** Frames that had something to send but showed a face, with `faces: withhold`. */
  withheldFrames: number;
  objects: number;
  /** Final objects the cloud confirmed or relabelled. */
  verified: number;
  relabelled: number;
  /** Detections the cloud's answer dropped. */
  rejected: number;
  crops: number;
  framesSent: number;
  /** Frames sent because nothing was found and the cloud named. */
  scenes: number;
  facesRedacted: number;
  bytesSent: number;
  /** What sending every frame whole (as captured) would have cost. */
  bytesWhole: number;
  bytesRatio: number;
  latencyMs: { p50: number | null; p95: number | null };
  detectMs: { p50: number | null; p95: number | null };
  payloadMs: { p50: number | null; p95: number | null };
}

export function summarizeDetections(records: readonly DetectRecord[]): DetectSummary {
  const offloads = records.flatMap((r) => r.offloads);
  const sent = offloads.filter((o) => o.bytes > 0);
  const bytesSent = records.reduce((s, r) => s + r.bytesSent, 0);
  const bytesWhole = records.reduce((s, r) => s + r.capturedBytes, 0);
  const sending = records.filter((r) => r.offloads.length > 0);
  const p = (values: number[]) => ({ p50: percentile(values, 0.5), p95: percentile(values, 0.95) });
  return {
    frames: records.length,
    failed: records.filter((r) => r.error !== null).length,
    offloadedFrames: records.filter((r) => r.decision.kind === 'offload').length,
    withheldFrames: records.filter((r) => r.offloads.some((o) => o.cloud.status === 'withheld')).length,
    objects: records.reduce((s, r) => s + r.detections.length, 0),
    verified: records.reduce((s, r) => s + r.detections.filter((d) => d.source === 'cloud').length, 0),
    relabelled: offloads.filter((o) => o.verdict?.kind === 'relabelled').length,
    rejected: offloads.filter((o) => o.verdict?.kind === 'rejected').length,
    crops: sent.filter((o) => o.kind === 'object').length,
    framesSent: sent.filter((o) => o.kind === 'frame').length,
    scenes: records.filter((r) => r.scene !== null).length,
    facesRedacted: sent.reduce((s, o) => s + (o.redactions?.faces ?? 0), 0),
    bytesSent,
    bytesWhole,
    bytesRatio: bytesWhole > 0 ? bytesSent / bytesWhole : 0,
    latencyMs: p(records.map((r) => r.timings.totalMs)),
    detectMs: p(records.filter((r) => r.error === null).map((r) => r.timings.detectMs)),
    payloadMs: p(sending.map((r) => r.timings.payloadMs)),
  };
}
