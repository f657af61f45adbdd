// How far the gated cascade's answers stay from the reference: the same cascade run on every
// analysed frame with no scene gate and no tracker. Pure functions over per-frame outcomes.
import { type Box, iou } from '@squeezegate/shared';

/**
 * What the agent decided for a frame. `reused`: the scene gate reused an earlier result (the
 * model did not run); `scene`: the model ran and the scene's cloud answer was reused (classify); `dropped`: a newer frame replaced it before the model took it (it keeps the camera's
 * last result); `interrupted`: the agent stopped while it waited for the cloud (local answer kept).
 */
export type DecisionKind = 'local' | 'offload' | 'reused' | 'scene' | 'dropped' | 'failed' | 'interrupted';

/** A frame went through the edge model unless its result was reused, or it never reached the model. */
export const isInferred = (kind: DecisionKind) =>
  kind === 'local' || kind === 'offload' || kind === 'scene' || kind === 'interrupted';

/** One object of a detect frame's final answer. */
export interface LabelledBox {
  box: Box;
  label: string;
}

/** A frame's final answer: a class index (null when the frame has none), or the objects found. */
export type FrameAnswer =
  | { task: 'classify'; index: number | null }
  | { task: 'detect'; objects: LabelledBox[] };

/** What the bench keeps of one analysed frame's record. */
export interface FrameOutcome {
  seq: number;
  kind: DecisionKind;
  /** Envelope bytes the frame sent to the gateway. */
  bytesSent: number;
  /** Payloads that left for the cloud: the frame (classify), or crops and frames (detect). */
  payloads: number;
  answer: FrameAnswer;
}

/**
 * F1 of `found` against `reference` at IoU ≥ `minIou` with the same label: each reference box
 * matches at most one found box, the pairs taken by IoU, highest first. Two empty answers agree
 * fully (1); one empty against a non-empty one not at all (0).
 */
export function frameF1(
  found: readonly LabelledBox[],
  reference: readonly LabelledBox[],
  minIou = 0.5,
): number {
  if (found.length === 0 && reference.length === 0) return 1;
  const pairs: { i: number; j: number; o: number }[] = [];
  for (const [i, f] of found.entries()) {
    for (const [j, r] of reference.entries()) {
      if (f.label !== r.label) continue;
      const o = iou(f.box, r.box);
      if (o >= minIou) pairs.push({ i, j, o });
    }
  }
  pairs.sort((a, b) => b.o - a.o);
  const usedFound = new Set<number>();
  const usedRef = new Set<number>();
  for (const { i, j } of pairs) {
    if (usedFound.has(i) || usedRef.has(j)) continue;
    usedFound.add(i);
    usedRef.add(j);
  }
  const tp = usedFound.size;
  return (2 * tp) / (found.length + reference.length);
}

/** 1 when two answers are the same, else the detect F1; a missing answer agrees with nothing. */
export function answerAgreement(answer: FrameAnswer | undefined, reference: FrameAnswer): number {
  if (answer === undefined || answer.task !== reference.task) return 0;
  if (answer.task === 'classify' && reference.task === 'classify')
    return answer.index === reference.index ? 1 : 0;
  if (answer.task === 'detect' && reference.task === 'detect')
    return frameF1(answer.objects, reference.objects);
  return 0;
}

/**
 * Mean per-frame agreement over the reference's frames, matched by `seq` (both runs decode the
 * same file at the same rate). Every recorded frame is scored on its final answer, a reused or
 * dropped one on the result it kept; a frame the gated run has no record of counts as 0. Null
 * when the reference has no frames.
 */
export function agreement(gated: readonly FrameOutcome[], reference: readonly FrameOutcome[]): number | null {
  if (reference.length === 0) return null;
  const bySeq = new Map<number, FrameOutcome>();
  for (const o of gated) bySeq.set(o.seq, o);
  let sum = 0;
  for (const ref of reference) {
    const mine = bySeq.get(ref.seq);
    sum += answerAgreement(mine?.answer, ref.answer);
  }
  return sum / reference.length;
}
