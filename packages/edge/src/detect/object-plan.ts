import type { DetectConfig, Detection } from '@squeezegate/shared';
import { COCO_TO_IMAGENET } from './imagenet-map.ts';

/**
 * Whether the cloud classifier can say anything about a class: ImageNet has cabs and police
 * vans but no class for a person, so a person's crop would cost bytes (and expose a person) for
 * an answer that cannot confirm it.
 */
export const isVerifiable = (label: string) => (COCO_TO_IMAGENET[label]?.length ?? 0) > 0;

/** How one frame's detections split between the edge's authority and the cloud's. */
export interface ObjectPlan {
  /** At or above `confident`: reported as they are. */
  confident: Detection[];
  /** In [`uncertain`, `confident`), best first, at most `maxCrops`: their crops go to the cloud. */
  verify: Detection[];
  /**
   * Uncertain but beyond the crop budget or of a class the cloud cannot verify: kept on the
   * edge's authority when they reach `minScore`.
   */
  unverified: Detection[];
  /** Nothing reached `minScore` or went for verification, yet a candidate reached `emptyFrame`. */
  sendFrame: boolean;
  reason: string;
}

/** The lowest score the detector must report for the plan to see every band. */
export function candidateFloor(config: DetectConfig, minScore: number): number {
  return Math.min(config.emptyFrame, config.uncertain, minScore);
}

const f = (v: number) => v.toFixed(2);

/** Splits a frame's candidates (sorted by score, best first) into what stays and what goes. */
export function planObjects(
  candidates: readonly Detection[],
  config: DetectConfig,
  minScore: number,
  verifiable: (label: string) => boolean = isVerifiable,
): ObjectPlan {
  const confident = candidates.filter((d) => d.score >= config.confident);
  const unsure = candidates
    .filter((d) => d.score >= config.uncertain && d.score < config.confident)
    .sort((a, b) => b.score - a.score);
  const checkable = unsure.filter((d) => verifiable(d.label));
  const verify = checkable.slice(0, config.maxCrops);
  const unverified = unsure.filter((d) => !verify.includes(d));
  const reported = candidates.some((d) => d.score >= minScore);
  const best = candidates.reduce((m, d) => Math.max(m, d.score), 0);
  const sendFrame = !reported && verify.length === 0 && candidates.length > 0 && best >= config.emptyFrame;
  let reason: string;
  if (verify.length > 0) {
    reason = `${verify.length} detection(s) scoring in [${f(config.uncertain)}, ${f(config.confident)})`;
  } else if (sendFrame) {
    reason = `nothing found, best candidate ${f(best)} ≥ ${f(config.emptyFrame)}`;
  } else if (confident.length > 0) {
    reason = `${confident.length} confident detection(s) ≥ ${f(config.confident)}`;
  } else {
    reason = candidates.length === 0 ? 'nothing found' : `nothing above ${f(config.emptyFrame)}`;
  }
  return { confident, verify, unverified, sendFrame, reason };
}
