import type { FrameRecord } from './frame-record.ts';

/** Nearest-rank percentile; null for an empty list. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface RunSummary {
  frames: number;
  offloaded: number;
  offloadRate: number;
  /** Frames that wanted to go but a rate or byte limit held back. */
  held: number;
  /** Frames whose final answer came from the cloud. */
  cloudAnswered: number;
  failed: number;
  /** Accuracies as fractions over labelled frames; null when nothing is labelled. */
  edgeTop1: number | null;
  cascadeTop1: number | null;
  bytesSent: number;
  bytesFrames: number;
  latencyMs: { p50: number | null; p95: number | null };
}

function accuracy(
  records: readonly FrameRecord[],
  pick: (r: FrameRecord) => number | undefined,
): number | null {
  const labelled = records.filter((r) => r.truth !== null);
  if (labelled.length === 0) return null;
  return labelled.filter((r) => pick(r) === r.truth).length / labelled.length;
}

export function summarize(records: readonly FrameRecord[]): RunSummary {
  const offloaded = records.filter((r) => r.decision.kind === 'offload').length;
  const latencies = records.map((r) => r.timings.totalMs);
  return {
    frames: records.length,
    offloaded,
    offloadRate: records.length ? offloaded / records.length : 0,
    held: records.filter((r) => r.decision.kind === 'local' && r.decision.held === true).length,
    cloudAnswered: records.filter((r) => r.final?.source === 'cloud').length,
    failed: records.filter((r) => r.error !== null).length,
    edgeTop1: accuracy(records, (r) => r.local?.index),
    cascadeTop1: accuracy(records, (r) => r.final?.index),
    bytesSent: records.reduce((s, r) => s + r.bytesSent, 0),
    bytesFrames: records.reduce((s, r) => s + r.capturedBytes, 0),
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
  };
}
