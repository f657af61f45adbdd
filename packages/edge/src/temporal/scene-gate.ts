import { changedShare, type Thumbnail, thumbnail } from './thumbnail.ts';

/** The analysed frame as the gate sees it: interleaved RGB plus its sequence number and capture time. */
export interface GateFrame {
  seq: number;
  /** Capture time, ms (any monotonic clock; only differences are used). */
  atMs: number;
  pixels: Buffer | Uint8Array;
  width: number;
  height: number;
}

/** Why a frame must go through the model. */
export type ChangeReason = 'first' | 'scene' | 'max-skip' | 'max-age' | 'resized';

/**
 * `changed`: run the model; this frame is now the reference. `unchanged`: reuse the result of
 * frame `since` (the reference, the last frame that went through the model).
 */
export type GateDecision =
  | { kind: 'changed'; score: number; reason: ChangeReason }
  | { kind: 'unchanged'; score: number; since: number };

export interface SceneGateOptions {
  /** Thumbnail width, px. Default 64 (NoScope's difference detectors work on thumbnails of this order). */
  thumbWidth?: number;
  /**
   * A thumbnail pixel counts as changed when its blurred grey level moves by more than this.
   * Default 16. On the sample clips the median thumbnail pixel moves 0.05–0.9 levels between
   * consecutive frames (codec noise, the hand-held shake of the bottle clip), so 16 is far above
   * noise; going from 12 to 16 let the gate skip 61 % instead of 50 % of the bottle clip at the
   * same agreement. Reducto's pixel feature uses 21 on full-resolution, unblurred pixels.
   */
  levelThreshold?: number;
  /**
   * The frame is `changed` when more than this share of thumbnail pixels changed. Default 0.01
   * (1 %: 23 pixels of a 64×36 thumbnail, a 5×5 patch). Doubling it to
   * 0.02 skips 20 % instead of 5 % of the street but drops its agreement from 0.997 to 0.978
   * (see the table below).
   */
  shareThreshold?: number;
  /** Force a model run after this many consecutive reused frames. Default 50 (10 s at 5 fps). */
  maxSkip?: number;
  /** Force a model run when the reference is this old, ms. Default 10,000. */
  maxAgeMs?: number;
}

export interface GateCounts {
  checked: number;
  unchanged: number;
  changed: Record<ChangeReason, number>;
}

/**
 * Decides per analysed frame whether the model must run. The frame is compared with the
 * REFERENCE, the last frame that went through the model, never with the previous frame: a slow
 * drift (a car creeping into a bay, dusk) then adds up until it crosses the threshold instead of
 * hiding below it one small step at a time (Reducto compares with the last sent frame for the
 * same reason; NoScope's "earlier frame" detector likewise).
 *
 * The caller runs the model on every `changed` frame (the gate has already made it the
 * reference). When it could not (the frame was dropped, inference failed), it calls `reset()`
 * so that the next frame is measured against nothing and goes through.
 */
export interface SceneGate {
  check(frame: GateFrame): GateDecision;
  /** Forgets the reference: the next frame is `changed` (reason `first`). */
  reset(): void;
  /** The reference frame's seq and time, or null before the first frame / after reset. */
  readonly reference: { seq: number; atMs: number } | null;
  readonly counts: GateCounts;
}

/*
 * Defaults measured on ../shared/datasets/video-sample, decoded with the bundled ffmpeg 4.1 at
 * `fps=5,scale=-2:256` (456×256, street 342×256), maxSkip 50 and maxAgeMs 10 s. "skip" is the
 * share of analysed frames the gate lets reuse the last result; "F1" is the mean per-frame F1
 * (IoU ≥ 0.5, same label) of the reused YOLOX-Nano detections against YOLOX-Nano run on that
 * very frame (score ≥ 0.3), i.e. what the gate costs in agreement before any tracking:
 *
 *   level/share   car-detection (151)   bottle-detection (199)   vtest street (398)
 *   12 / 0.01     skip 54 %  F1 0.980   skip 50 %  F1 0.997      skip  2 %  F1 0.999
 *   16 / 0.01     skip 56 %  F1 0.980   skip 61 %  F1 0.998      skip  5 %  F1 0.997   <- default
 *   16 / 0.02     skip 60 %  F1 0.974   skip 67 %  F1 0.995      skip 20 %  F1 0.978
 *   21 / 0.02     skip 62 %  F1 0.960   skip 72 %  F1 0.995      skip 33 %  F1 0.948
 *
 * (For scale: YOLOX-Nano's own frame-to-frame F1 is 0.81 on the parking lot and 0.78 on the
 * street, so most disagreement is detector flicker, not scene change.) Reducto tunes its
 * threshold per camera against an accuracy target from profiled frames; these defaults are one
 * fixed point that keeps agreement ≥ 0.98 on all three clips, and both thresholds are options so
 * that a per-camera profile can replace them.
 */

/** Creates a scene gate with the given thresholds (see SceneGateOptions for the defaults' reasons). */
export function createSceneGate(options: SceneGateOptions = {}): SceneGate {
  const {
    thumbWidth = 64,
    levelThreshold = 16,
    shareThreshold = 0.01,
    maxSkip = 50,
    maxAgeMs = 10_000,
  } = options;
  let ref: { seq: number; atMs: number; thumb: Thumbnail } | null = null;
  let skipped = 0;
  const counts: GateCounts = {
    checked: 0,
    unchanged: 0,
    changed: { first: 0, scene: 0, 'max-skip': 0, 'max-age': 0, resized: 0 },
  };

  const changed = (frame: GateFrame, thumb: Thumbnail, score: number, reason: ChangeReason): GateDecision => {
    ref = { seq: frame.seq, atMs: frame.atMs, thumb };
    skipped = 0;
    counts.changed[reason]++;
    return { kind: 'changed', score, reason };
  };

  return {
    check(frame) {
      counts.checked++;
      const thumb = thumbnail(frame, { width: thumbWidth });
      if (ref === null) return changed(frame, thumb, 1, 'first');
      if (ref.thumb.width !== thumb.width || ref.thumb.height !== thumb.height) {
        return changed(frame, thumb, 1, 'resized');
      }
      const score = changedShare(ref.thumb, thumb, levelThreshold);
      if (score > shareThreshold) return changed(frame, thumb, score, 'scene');
      if (skipped >= maxSkip) return changed(frame, thumb, score, 'max-skip');
      if (frame.atMs - ref.atMs >= maxAgeMs) return changed(frame, thumb, score, 'max-age');
      skipped++;
      counts.unchanged++;
      return { kind: 'unchanged', score, since: ref.seq };
    },
    reset() {
      ref = null;
      skipped = 0;
    },
    get reference() {
      return ref === null ? null : { seq: ref.seq, atMs: ref.atMs };
    },
    counts,
  };
}
