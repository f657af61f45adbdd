import {
  COCO_CLASSES,
  COCO_LOOKALIKES,
  COCO_TO_IMAGENET,
  KITTI_ALIASES,
  PERSON_CUES,
} from './imagenet-map.ts';

/** One entry of the cloud classifier's answer: ILSVRC2012 class index, its name, softmax probability. */
export interface CloudClass {
  readonly index: number;
  readonly label: string;
  readonly p: number;
}

/**
 * Why the cloud's answer leaves the local detection as it was.
 * - `no-counterpart`: ImageNet has no class for the local label (person, giraffe, …), or the label is unknown.
 * - `person-in-crop`: the cloud's top class is a person or something a person wears.
 * - `lookalike`: the cloud's top class resembles the local class without denoting it (a wolf for a dog).
 * - `cloud-unsure`: none of the above, and no threshold was reached.
 */
export type UnverifiableReason = 'no-counterpart' | 'person-in-crop' | 'lookalike' | 'cloud-unsure';

/**
 * What the cloud's top-k says about one uncertain detection. `mass` is always the cloud's mass for the
 * class the verdict names (see {@link cloudMass}).
 */
export type CloudVerdict =
  /** The cloud agrees. `refined` is the most probable ImageNet label inside the class's set (car → "taxicab"). */
  | { kind: 'confirmed'; label: string; refined: string; mass: number }
  /** The cloud clearly sees another detector class. `label` is the new class and `was` the local one. */
  | { kind: 'relabelled'; label: string; refined: string; mass: number; was: string }
  /** The cloud is confident about something no detector class covers, so the detection is dropped. `mass` is the local class's. */
  | { kind: 'rejected'; cloudLabel: string; cloudP: number; mass: number }
  /** Keep the local answer. `cloudLabel`/`cloudP` are the cloud's top-1 ('' and 0 for an empty answer). */
  | { kind: 'unverifiable'; reason: UnverifiableReason; cloudLabel: string; cloudP: number };

/** Thresholds on cloud probability, all in [0, 1], and the vocabulary a detection may be relabelled into. */
export interface VerdictOptions {
  /** The local class is confirmed when its mass reaches this. */
  readonly confirmMass: number;
  /** Another class replaces the local one when its mass reaches this and exceeds the local mass. */
  readonly relabelMass: number;
  /** The detection is rejected when the cloud's top-1 has at least this probability and maps to nothing. */
  readonly rejectP: number;
  /**
   * The detector's own class names: a relabel names one of these, so the caller can index it. The
   * default is the COCO-80 names. SqueezeDet passes `['car', 'pedestrian', 'cyclist']`, and then a
   * "car" that the cloud sees as a mountain bike becomes "cyclist".
   */
  readonly relabelTo: readonly string[];
}

/**
 * Measured with MobileNetV2-int8 top-5 on 15 %-padded square crops of `detection-sample` (33 GT boxes
 * and 249 YOLOX-Nano detections at score ≥ 0.1), and on the 1000 `imagenet-sample` images.
 * - confirmMass 0.3: on ImageNet images of a mapped class, 93.8 % are confirmed (95.0 % at 0.2, 89.5 %
 *   at 0.5), and an image of another class is confirmed in at most 0.1 % of cases. A correct crop spreads its mass
 *   over siblings (three poodles, cab and police van), so the sum clears 0.3 even when no single
 *   class does. A confirmation keeps the detection exactly as "unverifiable" would, so a false one
 *   costs little.
 * - relabelMass 0.7: at 0.6, two true detections were relabelled for their contents (a bowl of
 *   broccoli, mass 0.66, and a potted plant in a vase, 0.67). At 0.7, none of the 50 GT and TP crops
 *   were, and the relabels that fixed false positives (cat → dog 0.93, couch → dog 0.83) remained.
 * - rejectP 0.7: at 0.5, a GT bowl (meatloaf 0.54) was rejected. From 0.6 up, no GT or TP crop is
 *   rejected, and the stethoscope that YOLOX called a tie (0.85) still is. Against 0.6, 0.7 gives up
 *   4.6 points of rejection of non-COCO ImageNet objects (72.4 % → 67.8 %) for margin on small, blurry crops.
 */
export const DEFAULT_VERDICT_OPTIONS: Readonly<VerdictOptions> = Object.freeze({
  confirmMass: 0.3,
  relabelMass: 0.7,
  rejectP: 0.7,
  relabelTo: COCO_CLASSES,
});

/**
 * The cloud's probability mass for a detector class: the sum of `p` over the entries of `cloudTop`
 * whose index is in {@link COCO_TO_IMAGENET}[cocoLabel], each index counted once.
 *
 * The cloud returns only its top-k (5 or 10), not all 1000 probabilities, so this is a lower bound
 * on the class's true mass. The unseen rest can only add to it. For the same reason, a low mass does
 * not mean the cloud disagrees. It means the cloud put its weight somewhere else.
 */
export function cloudMass(cocoLabel: string, cloudTop: readonly CloudClass[]): number {
  const set = COCO_TO_IMAGENET[cocoLabel];
  if (set === undefined || set.length === 0) return 0;
  return massIn(new Set(set), cloudTop);
}

/**
 * Decide what the cloud's top-k answer for a crop of one detection means for the edge's label.
 *
 * The checks run in this order, and the first that holds decides:
 * 1. the local label has no ImageNet counterpart → unverifiable (`no-counterpart`);
 * 2. another class of `relabelTo` has mass ≥ `relabelMass` and more mass than the local class →
 *    relabelled;
 * 3. the local mass is ≥ `confirmMass` → confirmed;
 * 4. the top-1 is a person cue → unverifiable (`person-in-crop`), or a lookalike of the local class →
 *    unverifiable (`lookalike`);
 * 5. the top-1 has p ≥ `rejectP` and belongs to no class's set (in any vocabulary) → rejected;
 * 6. otherwise → unverifiable (`cloud-unsure`).
 *
 * `localLabel` is a COCO name or a KITTI alias (`pedestrian`, `cyclist`).
 */
export function cloudVerdict(
  localLabel: string,
  cloudTop: readonly CloudClass[],
  options: Partial<VerdictOptions> = {},
): CloudVerdict {
  const {
    confirmMass = DEFAULT_VERDICT_OPTIONS.confirmMass,
    relabelMass = DEFAULT_VERDICT_OPTIONS.relabelMass,
    rejectP = DEFAULT_VERDICT_OPTIONS.rejectP,
    relabelTo = DEFAULT_VERDICT_OPTIONS.relabelTo,
  } = options;
  const top = topOf(cloudTop);
  const cloudLabel = top?.label ?? '';
  const cloudP = top?.p ?? 0;
  const localSet = COCO_TO_IMAGENET[localLabel];
  if (localSet === undefined || localSet.length === 0) {
    return { kind: 'unverifiable', reason: 'no-counterpart', cloudLabel, cloudP };
  }
  const local = new Set(localSet);
  const mass = massIn(local, cloudTop);

  const rival = strongestRival(localLabel, cloudTop, relabelTo);
  if (rival !== undefined && rival.mass >= relabelMass && rival.mass > mass) {
    return {
      kind: 'relabelled',
      label: rival.label,
      refined: rival.refined,
      mass: rival.mass,
      was: localLabel,
    };
  }
  if (mass >= confirmMass) {
    return { kind: 'confirmed', label: localLabel, refined: bestIn(local, cloudTop)?.label ?? '', mass };
  }
  if (top === undefined) return { kind: 'unverifiable', reason: 'cloud-unsure', cloudLabel, cloudP };
  if (PERSON_CUES.has(top.index))
    return { kind: 'unverifiable', reason: 'person-in-crop', cloudLabel, cloudP };
  if (COCO_LOOKALIKES[localLabel]?.includes(top.index)) {
    return { kind: 'unverifiable', reason: 'lookalike', cloudLabel, cloudP };
  }
  if (top.p >= rejectP && !MAPPED.has(top.index)) return { kind: 'rejected', cloudLabel, cloudP, mass };
  return { kind: 'unverifiable', reason: 'cloud-unsure', cloudLabel, cloudP };
}

/** Every index that some detector class claims. */
const MAPPED: ReadonlySet<number> = new Set(Object.values(COCO_TO_IMAGENET).flat());

/** For each ImageNet index, the detector classes (COCO names and KITTI aliases) that claim it. */
const CLAIMS: ReadonlyMap<number, readonly string[]> = (() => {
  const claims = new Map<number, string[]>();
  for (const [label, set] of Object.entries(COCO_TO_IMAGENET)) {
    for (const index of set) claims.set(index, [...(claims.get(index) ?? []), label]);
  }
  return claims;
})();

/** A KITTI alias and its COCO class are one class: neither is a rival of the other. */
const canonical = (label: string): string => KITTI_ALIASES[label] ?? label;

function massIn(set: ReadonlySet<number>, cloudTop: readonly CloudClass[]): number {
  const seen = new Set<number>();
  let mass = 0;
  for (const { index, p } of cloudTop) {
    if (set.has(index) && !seen.has(index)) {
      seen.add(index);
      mass += p;
    }
  }
  return mass;
}

function topOf(cloudTop: readonly CloudClass[]): CloudClass | undefined {
  let top: CloudClass | undefined;
  for (const entry of cloudTop) if (top === undefined || entry.p > top.p) top = entry;
  return top;
}

function bestIn(set: ReadonlySet<number>, cloudTop: readonly CloudClass[]): CloudClass | undefined {
  return topOf(cloudTop.filter((entry) => set.has(entry.index)));
}

/**
 * The class of `relabelTo`, other than the local one, with the most mass. On a tie the one listed
 * first wins. Only classes that some entry claims are considered.
 */
function strongestRival(
  localLabel: string,
  cloudTop: readonly CloudClass[],
  relabelTo: readonly string[],
): { label: string; refined: string; mass: number } | undefined {
  const claimed = new Set(cloudTop.flatMap((entry) => CLAIMS.get(entry.index) ?? []));
  let best: { label: string; refined: string; mass: number } | undefined;
  for (const coco of relabelTo) {
    if (!claimed.has(coco) || canonical(coco) === canonical(localLabel)) continue;
    const set = new Set(COCO_TO_IMAGENET[coco]);
    const mass = massIn(set, cloudTop);
    if (best === undefined || mass > best.mass)
      best = { label: coco, refined: bestIn(set, cloudTop)?.label ?? '', mass };
  }
  return best;
}
