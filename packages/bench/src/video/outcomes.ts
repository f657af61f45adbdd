// The agent's frame records, reduced to what the bench measures. The shapes are structural, the
// fields of FrameRecord / DetectRecord the bench reads, so tests can build records by hand.
import type { Box } from '@squeezegate/shared';
import type { DecisionKind, FrameOutcome } from './agreement.ts';

/** The fields of a classify `FrameRecord` the bench reads. */
export interface ClassifyRecordLike {
  seq: number;
  bytesSent: number;
  decision: { kind: string; by?: string };
  final: { index: number } | null;
}

/** The fields of a `DetectRecord` the bench reads. */
export interface DetectRecordLike {
  seq: number;
  bytesSent: number;
  decision: { kind: string };
  detections: readonly { box: Box; label: string }[];
  offloads: readonly { bytes: number }[];
}

const KINDS: readonly string[] = [
  'local',
  'offload',
  'reused',
  'scene',
  'dropped',
  'failed',
  'interrupted',
] satisfies DecisionKind[];

/** The record's decision kind; a kind the bench does not know is an error, never a silent guess. */
export function decisionKind(kind: string): DecisionKind {
  if (!KINDS.includes(kind)) throw new Error(`unknown decision kind "${kind}" in a frame record`);
  return kind as DecisionKind;
}

export function classifyOutcome(r: ClassifyRecordLike): FrameOutcome {
  const kind = decisionKind(
    r.decision.kind === 'reused' && r.decision.by === 'scene' ? 'scene' : r.decision.kind,
  );
  return {
    seq: r.seq,
    kind,
    bytesSent: r.bytesSent,
    // An offload whose payload was withheld (faces: withhold) sent nothing.
    payloads: kind === 'offload' && r.bytesSent > 0 ? 1 : 0,
    answer: { task: 'classify', index: r.final?.index ?? null },
  };
}

export function detectOutcome(r: DetectRecordLike): FrameOutcome {
  const kind = decisionKind(r.decision.kind);
  return {
    seq: r.seq,
    kind,
    bytesSent: r.bytesSent,
    payloads: r.offloads.filter((o) => o.bytes > 0).length,
    answer: { task: 'detect', objects: r.detections.map((d) => ({ box: d.box, label: d.label })) },
  };
}
