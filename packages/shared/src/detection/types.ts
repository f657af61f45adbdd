import type { RawImage } from '../image/raw.ts';
import type { DetectorSpec } from './catalog.ts';

/** `[x1, y1, x2, y2]` in pixels of the original image (x2 > x1, y2 > y1 for a real box). */
export type Box = readonly [x1: number, y1: number, x2: number, y2: number];

/** `[x, y]` in pixels of the original image. */
export type Point = readonly [x: number, y: number];

export interface Detection {
  box: Box;
  /** Index into the detector's `labels`. */
  classIndex: number;
  label: string;
  /** The model's own score (see DETECTION.md "Score semantics"): not comparable across families. */
  score: number;
  /**
   * Face landmarks, when the model gives them (YuNet, DETECTION.md §5): right eye, left eye,
   * nose tip, right and left mouth corner (the person's right and left).
   */
  landmarks?: readonly Point[];
}

export interface DetectionResult {
  /** Sorted by score, highest first. */
  detections: Detection[];
  /** Wall time of the session runs, ms (all passes when tiling). */
  inferMs: number;
  /** Wall time of resizing and tensor packing, ms (all passes when tiling). */
  preMs: number;
  /** Model passes run for this image: 1, or 1 + the number of tiles when tiling. */
  tiles: number;
}

export interface DetectOptions {
  /** Keep detections scoring at least this; defaults to `spec.thresholds.score`. */
  scoreThreshold?: number;
  /**
   * `'auto'`: for a frame much wider (or taller) than the square model input, run the whole
   * frame plus overlapping square tiles and merge them (DETECTION.md, Gotcha 1). Models whose
   * input is not square (SqueezeDet, UltraFace) always run once. Default `'off'`.
   */
  tiling?: 'off' | 'auto';
  /**
   * Models with a dynamic input (YuNet) run each image at its own size times this (default 1),
   * padded up to the model's multiple: 2 looks for faces half as small. Fixed-input models
   * ignore it.
   */
  scale?: number;
  /**
   * Dynamic-input models: grow the (scaled) frame by a mirrored margin of this share of its short
   * side before searching, so that an object cut by the frame's edge is seen whole (default 0).
   * Boxes come back in the frame's pixels, clipped to it.
   */
  mirror?: number;
}

/** An object detector the agent depends on; onnxruntime is one implementation. */
export interface Detector {
  readonly spec: DetectorSpec;
  /** Class names, index = `Detection.classIndex`. */
  readonly labels: readonly string[];
  /**
   * Detects objects: decoded as DETECTION.md says, class-aware NMS applied, boxes in the image's
   * pixels, sorted by score desc; `scoreThreshold` defaults to `spec.thresholds.score`.
   */
  detect(image: RawImage, options?: DetectOptions): Promise<DetectionResult>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
