import type { Box, Detection } from './types.ts';

/** Intersection over union of two boxes; 0 when either has no area. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export interface NmsOptions {
  /** A box is suppressed when its IoU with a kept, higher-scored box exceeds this. */
  iou: number;
  /** Only boxes of the same class suppress each other (default true). */
  classAware?: boolean;
  /** Stop after this many kept boxes. */
  maxDetections?: number;
}

/**
 * Greedy non-maximum suppression, the one every decoder and the tile merge use: visit boxes by
 * score (highest first, ties in input order), keep a box unless a kept box of the same class
 * (any class when `classAware` is false) overlaps it by more than `iou`. Returns the kept
 * detections sorted by score, highest first; the input is not modified.
 */
export function nms(dets: readonly Detection[], options: NmsOptions): Detection[] {
  const { iou: threshold, classAware = true, maxDetections = Number.POSITIVE_INFINITY } = options;
  // Array.prototype.sort is stable, so equal scores keep their input order.
  const order = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of order) {
    if (kept.length >= maxDetections) break;
    let suppressed = false;
    for (const k of kept) {
      if (classAware && k.classIndex !== d.classIndex) continue;
      if (iou(k.box, d.box) > threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(d);
  }
  return kept;
}
