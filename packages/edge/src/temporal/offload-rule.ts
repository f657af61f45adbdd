import type { Box } from '@squeezegate/shared';
import type { BestFrame, Track } from './tracker.ts';

/** Scores in `[low, high)` are uncertain: the edge can neither drop nor trust the detection. */
export interface UncertainBand {
  low: number;
  high: number;
}

/** What was last offloaded for a track; keep one per track id and pass it back in. */
export interface SentCrop {
  label: string;
  /** The track's best score when the crop was sent (the crop itself may be a later frame). */
  bestScore: number;
  /** Box area in the sent frame. */
  area: number;
  /** Seq of the sent frame. */
  seq: number;
}

export interface OffloadRuleOptions {
  band: UncertainBand;
  /** The box area must grow or shrink by this factor since the last crop to send again. Default 2. */
  areaFactor?: number;
  /** The best score must beat the best score at the last crop by this much to send again. Default 0.15. */
  scoreGain?: number;
}

export type OffloadReason = 'first' | 'label' | 'appearance' | 'score';
export type HoldReason = 'tentative' | 'certain' | 'below-band' | 'sent';

/**
 * `send`: offload the crop of `frame` (a frame of this track: its best frame, or for an
 * appearance change the latest one), then remember `sent` for the next call. `hold`: do not.
 */
export type OffloadDecision =
  | { kind: 'send'; reason: OffloadReason; frame: BestFrame; sent: SentCrop }
  | { kind: 'hold'; reason: HoldReason };

const areaOf = (b: Box) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

/**
 * One crop per uncertain object, not one per frame. A confirmed track whose best score for its
 * label is in the uncertain band sends ONE crop, from its best frame. It sends again only when
 * - its label changed since that crop (`label`; the tracker restarts the best frame on a new
 *   label, so the crop shows the new class),
 * - its box area grew or shrank by `areaFactor` since that crop (`appearance`: the object came
 *   closer, turned, or was half hidden, so the cloud sees something new; the latest frame is sent),
 * - or its best score beat the best score at that crop by `scoreGain` while still uncertain
 *   (`score`: a much better view, sent from the new best frame).
 * A track that becomes certain (best score ≥ `band.high`) stops sending. Pure: the caller keeps
 * `sent` per track and the crop of each uncertain track's best frame (`track.bestFrame.seq`).
 */
export function offloadDue(
  track: Pick<Track, 'label' | 'confirmed' | 'bestFrame' | 'box' | 'score' | 'lastSeq' | 'lastSeenMs'>,
  sent: SentCrop | undefined,
  options: OffloadRuleOptions,
): OffloadDecision {
  const { band, areaFactor = 2, scoreGain = 0.15 } = options;
  if (!track.confirmed) return { kind: 'hold', reason: 'tentative' };
  const best = track.bestFrame;
  if (best.score >= band.high) return { kind: 'hold', reason: 'certain' };
  if (best.score < band.low) return { kind: 'hold', reason: 'below-band' };
  const send = (reason: OffloadReason, frame: BestFrame): OffloadDecision => ({
    kind: 'send',
    reason,
    frame,
    sent: { label: track.label, bestScore: best.score, area: areaOf(frame.box), seq: frame.seq },
  });
  if (sent === undefined) return send('first', best);
  if (sent.label !== track.label) return send('label', best);
  const area = areaOf(track.box);
  if (sent.area > 0 && (area >= sent.area * areaFactor || area * areaFactor <= sent.area)) {
    return send('appearance', {
      seq: track.lastSeq,
      atMs: track.lastSeenMs,
      score: track.score,
      box: track.box,
    });
  }
  if (best.score - sent.bestScore >= scoreGain) return send('score', best);
  return { kind: 'hold', reason: 'sent' };
}
