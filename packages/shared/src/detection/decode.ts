/**
 * Output decoders, one per model family, as pure functions over the output arrays so they can
 * be tested with hand-made tensors. Each follows its section of DETECTION.md and returns final
 * detections (threshold, class-aware NMS, cap) in frame pixels, sorted by score.
 */
import { nms } from './nms.ts';
import type { Box, Detection } from './types.ts';

/**
 * How model-input pixels map back to the frame: `frame = region.left + (x − padLeft) / scaleX`
 * (likewise for y), clipped to `region`, the part of the frame the input shows (the whole frame,
 * or one tile of it).
 */
export interface InputMapping {
  scaleX: number;
  scaleY: number;
  padLeft: number;
  padTop: number;
  region: { left: number; top: number; width: number; height: number };
}

export interface DecodeOptions {
  mapping: InputMapping;
  /** Model input size in pixels (the grids derive from it). */
  input: { width: number; height: number };
  /** Class names, index = class id; their count is the model's class count. */
  labels: readonly string[];
  scoreThreshold: number;
  /** NMS IoU threshold. */
  nms: number;
  maxDetections: number;
  /** Candidates kept by score before NMS (SqueezeDet). */
  preNmsTopK?: number | undefined;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Input-pixel box → frame-pixel box, clipped; undefined when nothing of it is left. */
export function mapBox(x1: number, y1: number, x2: number, y2: number, m: InputMapping): Box | undefined {
  const { left, top, width, height } = m.region;
  const box: Box = [
    clamp(left + (x1 - m.padLeft) / m.scaleX, left, left + width),
    clamp(top + (y1 - m.padTop) / m.scaleY, top, top + height),
    clamp(left + (x2 - m.padLeft) / m.scaleX, left, left + width),
    clamp(top + (y2 - m.padTop) / m.scaleY, top, top + height),
  ];
  return box[2] > box[0] && box[3] > box[1] ? box : undefined;
}

function finish(candidates: Detection[], o: DecodeOptions): Detection[] {
  return nms(candidates, { iou: o.nms, maxDetections: o.maxDetections });
}

function expectLength(name: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${name} has ${actual} values, expected ${expected}`);
}

/**
 * YOLOX (DETECTION.md §1): `output` [1, Σ cells, 5 + C], rows stride 8 then 16 then 32 (each
 * grid row-major), columns `[tx, ty, tw, th, obj, cls…]` with obj and cls already sigmoided.
 * cx = (tx + gx)·s, w = exp(tw)·s; score = obj · max cls.
 */
export function decodeYolox(output: Float32Array, o: DecodeOptions): Detection[] {
  const classes = o.labels.length;
  const stride = 5 + classes;
  const candidates: Detection[] = [];
  let row = 0;
  for (const s of [8, 16, 32]) {
    const gw = Math.floor(o.input.width / s);
    const gh = Math.floor(o.input.height / s);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const base = row * stride;
        const obj = output[base + 4] ?? 0;
        // cls ≤ 1, so obj alone below the threshold rules the row out.
        if (obj < o.scoreThreshold) continue;
        let best = 0;
        let cls = 0;
        for (let c = 0; c < classes; c++) {
          const p = output[base + 5 + c]!;
          if (p > best) {
            best = p;
            cls = c;
          }
        }
        const score = obj * best;
        if (score < o.scoreThreshold) continue;
        const cx = (output[base]! + gx) * s;
        const cy = (output[base + 1]! + gy) * s;
        const w = Math.exp(output[base + 2]!) * s;
        const h = Math.exp(output[base + 3]!) * s;
        const box = mapBox(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, o.mapping);
        if (box) candidates.push({ box, classIndex: cls, label: o.labels[cls]!, score });
      }
    }
  }
  expectLength('YOLOX output', output.length, row * stride);
  return finish(candidates, o);
}

const PICODET_STRIDES = [8, 16, 32, 64] as const;
const PICODET_BINS = 8; // reg_max 7

/** Expected value of a softmaxed 8-bin distribution: Σ b · softmax(bins)_b. */
function dflDistance(bins: Float32Array, offset: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let b = 0; b < PICODET_BINS; b++) max = Math.max(max, bins[offset + b]!);
  let sum = 0;
  let weighted = 0;
  for (let b = 0; b < PICODET_BINS; b++) {
    const e = Math.exp(bins[offset + b]! - max);
    sum += e;
    weighted += b * e;
  }
  return weighted / sum;
}

/**
 * PP-PicoDet (DETECTION.md §2): per stride 8/16/32/64, `scores` [1, N, C] (sigmoided) and
 * `boxes` [1, N, 32] = left/top/right/bottom × 8 DFL bins. Cell centre (g·s + (s−1)/2),
 * distance = s · E[bin]; score = max cls.
 */
export function decodePicodet(
  outputs: { scores: readonly Float32Array[]; boxes: readonly Float32Array[] },
  o: DecodeOptions,
): Detection[] {
  const classes = o.labels.length;
  const candidates: Detection[] = [];
  PICODET_STRIDES.forEach((s, level) => {
    const scores = outputs.scores[level];
    const dists = outputs.boxes[level];
    if (!scores || !dists) throw new RangeError(`PicoDet level ${level} (stride ${s}) output missing`);
    const gw = Math.ceil(o.input.width / s);
    const cells = gw * Math.ceil(o.input.height / s);
    expectLength(`PicoDet scores at stride ${s}`, scores.length, cells * classes);
    expectLength(`PicoDet boxes at stride ${s}`, dists.length, cells * 4 * PICODET_BINS);
    for (let i = 0; i < cells; i++) {
      let score = 0;
      let cls = 0;
      for (let c = 0; c < classes; c++) {
        const p = scores[i * classes + c]!;
        if (p > score) {
          score = p;
          cls = c;
        }
      }
      if (score < o.scoreThreshold) continue;
      const cx = (i % gw) * s + (s - 1) / 2;
      const cy = Math.floor(i / gw) * s + (s - 1) / 2;
      const d = (k: number) => s * dflDistance(dists, (i * 4 + k) * PICODET_BINS);
      const box = mapBox(cx - d(0), cy - d(1), cx + d(2), cy + d(3), o.mapping);
      if (box) candidates.push({ box, classIndex: cls, label: o.labels[cls]!, score });
    }
  });
  return finish(candidates, o);
}

/**
 * SqueezeDet (DETECTION.md §3) from its in-graph outputs: `boxes` [1, A, 4] in input pixels
 * and `scores` [1, A, C] (class probability × confidence). As `filter_prediction`: score = max
 * class, keep the top `preNmsTopK` anchors, class-aware NMS, then the score threshold.
 */
export function decodeSqueezedet(
  outputs: { boxes: Float32Array; scores: Float32Array },
  o: DecodeOptions,
): Detection[] {
  const classes = o.labels.length;
  const anchors = outputs.scores.length / classes;
  expectLength('SqueezeDet boxes', outputs.boxes.length, anchors * 4);
  const best: { anchor: number; cls: number; score: number }[] = [];
  for (let a = 0; a < anchors; a++) {
    let score = Number.NEGATIVE_INFINITY;
    let cls = 0;
    for (let c = 0; c < classes; c++) {
      const p = outputs.scores[a * classes + c]!;
      if (p > score) {
        score = p;
        cls = c;
      }
    }
    best.push({ anchor: a, cls, score });
  }
  best.sort((a, b) => b.score - a.score);
  const top = best.slice(0, o.preNmsTopK ?? anchors);
  const candidates: Detection[] = [];
  for (const { anchor, cls, score } of top) {
    const b = anchor * 4;
    const box = mapBox(
      outputs.boxes[b]!,
      outputs.boxes[b + 1]!,
      outputs.boxes[b + 2]!,
      outputs.boxes[b + 3]!,
      o.mapping,
    );
    if (box) candidates.push({ box, classIndex: cls, label: o.labels[cls]!, score });
  }
  // NMS before the threshold, in that order, as the original post-processing does.
  return finish(candidates, { ...o, maxDetections: Number.POSITIVE_INFINITY })
    .filter((d) => d.score >= o.scoreThreshold)
    .slice(0, o.maxDetections);
}

/**
 * UltraFace (DETECTION.md §4): `scores` [1, N, 2] softmaxed (background, face) and `boxes`
 * [1, N, 4] normalised to the input. Class 0 of the result is `face` (output column 1).
 */
export function decodeUltraface(
  outputs: { scores: Float32Array; boxes: Float32Array },
  o: DecodeOptions,
): Detection[] {
  const n = outputs.scores.length / 2;
  expectLength('UltraFace boxes', outputs.boxes.length, n * 4);
  const { width, height } = o.input;
  const candidates: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const score = outputs.scores[i * 2 + 1]!;
    if (score < o.scoreThreshold) continue;
    const b = i * 4;
    const box = mapBox(
      outputs.boxes[b]! * width,
      outputs.boxes[b + 1]! * height,
      outputs.boxes[b + 2]! * width,
      outputs.boxes[b + 3]! * height,
      o.mapping,
    );
    if (box) candidates.push({ box, classIndex: 0, label: o.labels[0]!, score });
  }
  return finish(candidates, o);
}

const YUNET_STRIDES = [8, 16, 32] as const;

/** YuNet's outputs, one array per stride 8/16/32, each grid row-major. */
export interface YunetOutputs {
  /** [1, n, 1], sigmoided. */
  cls: readonly Float32Array[];
  /** [1, n, 1], sigmoided. */
  obj: readonly Float32Array[];
  /** [1, n, 4]: cell offsets of the centre, log width and height (in strides). */
  bbox: readonly Float32Array[];
  /** [1, n, 10]: five landmarks as cell offsets (in strides). */
  kps: readonly Float32Array[];
}

/**
 * YuNet (DETECTION.md §5, as OpenCV `FaceDetectorYN`): per stride s in 8/16/32 and cell (x, y),
 * score = sqrt(cls · obj) (both clamped to [0, 1]); centre ((x + b0)·s, (y + b1)·s), size
 * (exp(b2)·s, exp(b3)·s); landmark k = ((kps[2k] + x)·s, (kps[2k+1] + y)·s). Boxes and landmarks
 * map back to the frame like every other decoder's; landmarks are clipped to the region.
 */
export function decodeYunet(outputs: YunetOutputs, o: DecodeOptions): Detection[] {
  const { left, top, width, height } = o.mapping.region;
  const point = (x: number, y: number): readonly [number, number] => [
    clamp(left + (x - o.mapping.padLeft) / o.mapping.scaleX, left, left + width),
    clamp(top + (y - o.mapping.padTop) / o.mapping.scaleY, top, top + height),
  ];
  const candidates: Detection[] = [];
  YUNET_STRIDES.forEach((s, level) => {
    const cls = outputs.cls[level];
    const obj = outputs.obj[level];
    const bbox = outputs.bbox[level];
    const kps = outputs.kps[level];
    if (!cls || !obj || !bbox || !kps) throw new RangeError(`YuNet stride ${s} output missing`);
    const gw = Math.floor(o.input.width / s);
    const cells = gw * Math.floor(o.input.height / s);
    expectLength(`YuNet cls_${s}`, cls.length, cells);
    expectLength(`YuNet obj_${s}`, obj.length, cells);
    expectLength(`YuNet bbox_${s}`, bbox.length, cells * 4);
    expectLength(`YuNet kps_${s}`, kps.length, cells * 10);
    for (let i = 0; i < cells; i++) {
      const score = Math.sqrt(clamp(cls[i]!, 0, 1) * clamp(obj[i]!, 0, 1));
      if (score < o.scoreThreshold) continue;
      const x = i % gw;
      const y = Math.floor(i / gw);
      const cx = (x + bbox[i * 4]!) * s;
      const cy = (y + bbox[i * 4 + 1]!) * s;
      const w = Math.exp(bbox[i * 4 + 2]!) * s;
      const h = Math.exp(bbox[i * 4 + 3]!) * s;
      const box = mapBox(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, o.mapping);
      if (!box) continue;
      const landmarks = [0, 1, 2, 3, 4].map((k) =>
        point((kps[i * 10 + 2 * k]! + x) * s, (kps[i * 10 + 2 * k + 1]! + y) * s),
      );
      candidates.push({ box, classIndex: 0, label: o.labels[0]!, score, landmarks });
    }
  });
  return finish(candidates, o);
}
