/**
 * Is a face candidate a person's? The rules the face search applies to each face it found, as
 * pure functions over the evidence (issue 15: redact every identifiable human face, spare the
 * animals). Recall comes first: a face is spared only on positive evidence that it is not a
 * person's, and never when it is small (a small box costs the cloud little, and a small face is
 * too small to judge).
 */

export interface HumanFaceRules {
  /** Faces narrower than this (payload pixels) are always redacted. */
  minWidth: number;
  /** YuNet at least this sure: a person's face, no further question. */
  sure: number;
  /** YuNet (in the search or on a closer look) at least this sure: a face, a person's unless... */
  likely: number;
  /** ...the ImageNet classifier, shown the face, gives animals at least this much. */
  animal: number;
  /** A face YuNet does not see (other models only) is redacted at this score... */
  otherSure: number;
  /** ...unless the classifier gives animals at least this much. */
  otherAnimal: number;
}

/**
 * Chosen on the face photos, video-sample frames and the ImageNet crops of bench:detect
 * (docs/detection-and-privacy.md, "Which faces are redacted"): of 214 faces ≥ 24 px in the
 * payloads cut from the face photos, 193 score ≥ 0.9 with YuNet and all but 5 of the rest ≥ 0.7
 * on a closer look; dogs' faces mostly score 0.5–0.9 with YuNet (UltraFace gives them 0.99) and
 * SqueezeNet puts ≥ 0.95 of its mass on animals for them, where a person's face cut by the edge
 * of a crop reached 0.91.
 */
export const HUMAN_FACE_RULES: HumanFaceRules = {
  minWidth: 24,
  sure: 0.9,
  likely: 0.7,
  animal: 0.95,
  otherSure: 0.9,
  otherAnimal: 0.95,
};

export type FaceVerdict =
  | { redact: true; reason: 'small' | 'sure' | 'likely' | 'other-sure' | 'no-check' }
  | { redact: false; reason: 'animal' | 'unsure' };

/** What is known of a candidate before asking anything costly. */
export interface FaceEvidence {
  /** Width in the searched image's pixels. */
  width: number;
  /** YuNet's score in the search, 0 when YuNet did not find it. */
  yunet: number;
  /** The best score of the other face models, 0 when none found it. */
  other: number;
}

/** The costly questions, asked only when the cheap evidence does not settle it. */
export interface FaceQuestions {
  /** YuNet's score on a closer, mirrored view of the candidate (0: nothing there). */
  closerLook(): Promise<number>;
  /** The ImageNet classifier's probability mass on animal classes for the candidate. */
  animalMass(): Promise<number>;
}

/**
 * The verdict for one candidate. Without a closer look (no YuNet in the search) every candidate
 * is redacted unless the classifier sees an animal; without either, every candidate is.
 */
export async function judgeFace(
  e: FaceEvidence,
  ask: Partial<FaceQuestions>,
  rules: HumanFaceRules = HUMAN_FACE_RULES,
): Promise<FaceVerdict> {
  if (e.width < rules.minWidth) return { redact: true, reason: 'small' };
  if (e.yunet >= rules.sure) return { redact: true, reason: 'sure' };
  // Without YuNet there is no second opinion on whether it is a face at all: every candidate is
  // one, spared only when the classifier sees an animal.
  if (!ask.closerLook) {
    if (ask.animalMass && (await ask.animalMass()) >= rules.animal)
      return { redact: false, reason: 'animal' };
    return { redact: true, reason: 'no-check' };
  }
  const look = e.yunet >= rules.likely ? e.yunet : Math.max(e.yunet, await ask.closerLook());
  if (look >= rules.likely) {
    if (look >= rules.sure || !ask.animalMass) return { redact: true, reason: 'likely' };
    return (await ask.animalMass()) >= rules.animal
      ? { redact: false, reason: 'animal' }
      : { redact: true, reason: 'likely' };
  }
  if (e.other < rules.otherSure) return { redact: false, reason: 'unsure' };
  if (ask.animalMass && (await ask.animalMass()) >= rules.otherAnimal)
    return { redact: false, reason: 'animal' };
  return { redact: true, reason: 'other-sure' };
}

/** ILSVRC2012 classes 0–397 (tench … pufferfish) are animals; 398 on are things. */
export const IMAGENET_ANIMAL_CLASSES = 398;

/** Probability mass a 1000-class ImageNet softmax puts on animals. */
export function animalMass(probs: ArrayLike<number>): number {
  let mass = 0;
  for (let i = 0; i < IMAGENET_ANIMAL_CLASSES; i++) mass += probs[i] ?? 0;
  return mass;
}
