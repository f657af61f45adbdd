import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { iou } from './nms.ts';
import type { Detection } from './types.ts';

/** One labelled box of the detection sample (`labels.json`), in pixels of the stored image. */
export const GroundTruthBoxSchema = z
  .object({
    class: z.string().min(1),
    box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
    /** Counts neither as a true nor as a false positive (KITTI DontCare, too small, occluded…). */
    ignore: z.boolean(),
    orig_class: z.string().optional(),
    truncated: z.number().optional(),
    occluded: z.number().optional(),
  })
  .strict();

export const GroundTruthImageSchema = z
  .object({
    file: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    set: z.string(),
    source: z.string().optional(),
    license: z.string().optional(),
    /**
     * Classes labelled on this image; predictions of other classes are not scored. `[]`:
     * unlabelled; `'all-coco80'`: every COCO class is labelled, so every prediction is scored.
     */
    annotated_classes: z.union([z.array(z.string()), z.literal('all-coco80')]),
    boxes: z.array(GroundTruthBoxSchema),
  })
  .strict();

export const GroundTruthSchema = z
  .object({ format: z.string().optional(), images: z.array(GroundTruthImageSchema) })
  .strict();

export type GroundTruthBox = z.infer<typeof GroundTruthBoxSchema>;
export type GroundTruthImage = z.infer<typeof GroundTruthImageSchema>;
export type GroundTruth = z.infer<typeof GroundTruthSchema>;

/** Reads and validates a `labels.json` ground-truth file. */
export async function loadGroundTruth(file: string): Promise<GroundTruth> {
  return GroundTruthSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

export interface ImageEvaluation {
  truth: Pick<GroundTruthImage, 'annotated_classes' | 'boxes'>;
  detections: readonly Detection[];
}

export interface EvaluateOptions {
  /** Minimum IoU for a match (default 0.5). */
  iou?: number;
  /** Prediction label → ground-truth class, e.g. `{ pedestrian: 'person' }` for SqueezeDet. */
  classMap?: Readonly<Record<string, string>>;
  /**
   * Operating point for tp/fp/fn/precision/recall: only predictions scoring at least this count
   * there (default 0: all). `ap50` always ranks every prediction given, so collect them at a low
   * score (e.g. 0.05) and pass the deployment threshold here.
   */
  scoreThreshold?: number;
}

export interface DetectionMetrics {
  tp: number;
  fp: number;
  /** Non-ignored ground-truth boxes left unmatched. */
  fn: number;
  /** tp / (tp + fp); 0 without predictions. */
  precision: number;
  /** tp / (tp + fn); 0 without ground truth. */
  recall: number;
  /**
   * Average precision at the IoU threshold, pooled over all classes (one ranked list), with the
   * all-point interpolated precision envelope (PASCAL VOC 2010+).
   */
  ap50: number;
}

/**
 * Scores detections against ground truth: within each image and class, predictions are taken by
 * score (highest first) and each matches the unmatched, non-ignored box of its class it overlaps
 * most, if at IoU ≥ `iou` (a TP). A prediction that matches nothing but overlaps an ignored
 * box (of any class: DontCare regions have none) at IoU ≥ `iou` counts neither way; otherwise it
 * is a FP. Predictions whose (mapped) class is not in the image's `annotated_classes` are not
 * scored.
 */
export function evaluateDetections(
  images: readonly ImageEvaluation[],
  options: EvaluateOptions = {},
): DetectionMetrics {
  const { iou: threshold = 0.5, classMap = {}, scoreThreshold = 0 } = options;
  const ranked: { score: number; tp: boolean }[] = [];
  let positives = 0;
  for (const { truth, detections } of images) {
    const annotated =
      truth.annotated_classes === 'all-coco80' ? undefined : new Set<string>(truth.annotated_classes);
    const real = truth.boxes.filter((b) => !b.ignore);
    const ignored = truth.boxes.filter((b) => b.ignore);
    positives += real.length;
    const taken = new Set<number>();
    const scored = detections
      .map((d) => ({ d, cls: classMap[d.label] ?? d.label }))
      .filter(({ cls }) => annotated?.has(cls) ?? true)
      .sort((a, b) => b.d.score - a.d.score);
    for (const { d, cls } of scored) {
      let best = -1;
      let bestIou = threshold;
      real.forEach((g, i) => {
        if (taken.has(i) || g.class !== cls) return;
        const o = iou(d.box, g.box);
        if (o >= bestIou) {
          bestIou = o;
          best = i;
        }
      });
      if (best >= 0) {
        taken.add(best);
        ranked.push({ score: d.score, tp: true });
      } else if (!ignored.some((g) => iou(d.box, g.box) >= threshold)) {
        ranked.push({ score: d.score, tp: false });
      }
    }
  }
  const counted = ranked.filter((r) => r.score >= scoreThreshold);
  const tp = counted.filter((r) => r.tp).length;
  const fp = counted.length - tp;
  return {
    tp,
    fp,
    fn: positives - tp,
    precision: counted.length > 0 ? tp / counted.length : 0,
    recall: positives > 0 ? tp / positives : 0,
    ap50: averagePrecision(ranked, positives),
  };
}

/** All-point interpolated AP of a ranked list of hits against `positives` ground-truth boxes. */
export function averagePrecision(
  ranked: readonly { score: number; tp: boolean }[],
  positives: number,
): number {
  if (positives === 0) return 0;
  const sorted = [...ranked].sort((a, b) => b.score - a.score);
  const precision: number[] = [];
  const recall: number[] = [];
  let hits = 0;
  sorted.forEach((r, i) => {
    if (r.tp) hits++;
    precision.push(hits / (i + 1));
    recall.push(hits / positives);
  });
  // Envelope: precision at recall r is the best precision at any recall ≥ r.
  for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i]!, precision[i + 1]!);
  let ap = 0;
  let prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (recall[i]! > prev) {
      ap += (recall[i]! - prev) * precision[i]!;
      prev = recall[i]!;
    }
  }
  return ap;
}
