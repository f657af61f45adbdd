/**
 * The face search that redaction runs on every payload (issue 15): YuNet at (up to twice) the
 * payload's own scale with mirrored edges (a face cut by the edge is found whole), the other
 * face models (UltraFace) for the profiles and covered faces YuNet misses, then a human check on
 * each candidate (human-face.ts) so that dogs keep their faces. It is a Detector whose
 * detections are the faces to redact, so the privacy guard needs no second interface.
 */
import sharp from 'sharp';
import type { RawImage } from '../image/raw.ts';
import type { Classifier } from '../inference/onnx-classifier.ts';
import type { DetectorSpec } from './catalog.ts';
import {
  animalMass,
  type FaceVerdict,
  HUMAN_FACE_RULES,
  type HumanFaceRules,
  judgeFace,
} from './human-face.ts';
import { mirroredView } from './mirror.ts';
import { iou } from './nms.ts';
import type { Box, Detection, DetectionResult, DetectOptions, Detector } from './types.ts';

export interface FaceSearchOptions {
  /** YuNet (dynamic input, landmarks): the main search and the closer look. */
  yunet: Detector | null;
  /** Other face models (UltraFace), each run once over the whole image. */
  others: readonly Detector[];
  /** An ImageNet classifier (224² views): is an unsure face an animal's? null: never spare. */
  animals: Classifier | null;
  rules?: Partial<HumanFaceRules>;
  /**
   * YuNet's input budget in pixels: images smaller than this run upscaled (at most `maxScale`),
   * so a 224 crop's 8 px face is searched as 16 px. Default 512².
   */
  searchPixels?: number;
  maxScale?: number;
  /**
   * Mirrored margin around the image for YuNet, as a share of its short side (default 0.125:
   * as many half faces found as with 0.25 on the face photos, for less area).
   */
  mirror?: number;
  /**
   * Small images (long side up to this many pixels) also go to the other models as 2×2
   * overlapping quarters, each seen larger: a 224 crop's 6 px face becomes a 13 px one for
   * UltraFace-320. Default 0 (off): on 224 crops of the street frames (vtest.avi) it finds the
   * 6–7 px heads UltraFace-640 finds, but costs the cloud 1.3 more points of top-1 on the 300
   * ImageNet crops of bench:detect.
   */
  otherTiles?: number;
  /** Closes the models with the search (default true). */
  ownsModels?: boolean;
}

/** A candidate the search considered, with what it decided. */
export interface JudgedFace extends Detection {
  verdict: FaceVerdict;
}

/** What `detect` returns: the faces to redact, and the candidates it spared. */
export interface FaceSearchResult extends DetectionResult {
  spared: JudgedFace[];
}

export interface FaceSearch extends Detector {
  /** The face models it runs, YuNet first. */
  readonly models: readonly string[];
  detect(image: RawImage, options?: DetectOptions): Promise<FaceSearchResult>;
}

interface Candidate {
  box: Box;
  yunet: number;
  other: number;
  landmarks?: Detection['landmarks'];
}

/** Merges the models' boxes into candidates: the same face (IoU ≥ 0.3) keeps YuNet's box. */
function merge(yunet: readonly Detection[], others: readonly Detection[]): Candidate[] {
  const out: Candidate[] = yunet.map((d) => ({
    box: d.box,
    yunet: d.score,
    other: 0,
    ...(d.landmarks ? { landmarks: d.landmarks } : {}),
  }));
  for (const d of [...others].sort((a, b) => b.score - a.score)) {
    const same = out.find((c) => iou(c.box, d.box) >= 0.3);
    if (same) same.other = Math.max(same.other, d.score);
    else out.push({ box: d.box, yunet: 0, other: d.score });
  }
  return out;
}

/** The square around a box grown by `grow` of its side on every side, in the image's pixels. */
const around = (box: Box, grow: number) => {
  const side = Math.max(box[2] - box[0], box[3] - box[1]) * (1 + 2 * grow);
  return {
    left: (box[0] + box[2]) / 2 - side / 2,
    top: (box[1] + box[3]) / 2 - side / 2,
    width: side,
    height: side,
  };
};

/**
 * The whole image, and for an image whose long side is at most `upTo` pixels its four quarters,
 * each 5/8 of a side (overlapping by a quarter), as views with their offsets.
 */
export async function closeUps(
  image: RawImage,
  upTo: number,
): Promise<{ image: RawImage; left: number; top: number }[]> {
  const views = [{ image, left: 0, top: 0 }];
  if (Math.max(image.width, image.height) > upTo) return views;
  const w = Math.round(image.width * 0.625);
  const h = Math.round(image.height * 0.625);
  if (w < 16 || h < 16) return views;
  for (const top of [0, image.height - h])
    for (const left of [0, image.width - w]) {
      const pixels = await sharp(image.pixels, {
        raw: { width: image.width, height: image.height, channels: 3 },
      })
        .extract({ left, top, width: w, height: h })
        .raw()
        .toBuffer();
      views.push({ image: { pixels, width: w, height: h }, left, top });
    }
  return views;
}

export function createFaceSearch(options: FaceSearchOptions): FaceSearch {
  const { yunet, others, animals, searchPixels = 512 * 512, maxScale = 2, mirror = 0.125 } = options;
  const otherTiles = options.otherTiles ?? 0;
  const rules = { ...HUMAN_FACE_RULES, ...options.rules };
  const primary = yunet ?? others[0];
  if (!primary) throw new RangeError('a face search needs at least one face model');
  const models = [...(yunet ? [yunet.spec.id] : []), ...others.map((d) => d.spec.id)];
  const spec: DetectorSpec = { ...primary.spec, id: models.join('+') };

  /** YuNet over the image with mirrored margins, at up to `maxScale`; boxes in the image's pixels. */
  async function searchYunet(image: RawImage, threshold: number) {
    if (!yunet) return { detections: [], inferMs: 0, preMs: 0, tiles: 0 };
    // The scale follows the image's own size: `searchPixels` of input, margin aside.
    const scale = Math.min(maxScale, Math.max(1, Math.sqrt(searchPixels / (image.width * image.height))));
    return yunet.detect(image, { scoreThreshold: threshold, scale, mirror });
  }

  /** YuNet's best score for a face at `box` on a 96² mirrored view around it (face about half of it). */
  async function closerLook(image: RawImage, box: Box): Promise<number> {
    if (!yunet) return 0;
    const region = around(box, 0.5);
    const view = await mirroredView(image, region, 96);
    const k = 96 / region.width;
    const target: Box = [
      (box[0] - region.left) * k,
      (box[1] - region.top) * k,
      (box[2] - region.left) * k,
      (box[3] - region.top) * k,
    ];
    const { detections } = await yunet.detect(view, { scoreThreshold: 0.1, scale: 1 });
    return detections.reduce((best, d) => (iou(d.box, target) >= 0.3 ? Math.max(best, d.score) : best), 0);
  }

  /** The classifier's animal mass for the face and some of its surroundings (224² view). */
  async function animalMassAt(image: RawImage, box: Box): Promise<number> {
    if (!animals) return 0;
    const region = around(box, 0.25);
    const view = await mirroredView(image, region, animals.spec.preprocess.centerCrop);
    const [result] = await animals.classify([{ pixels: view.pixels, size: view.width }]);
    return result ? animalMass(result.probs) : 0;
  }

  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      if (options.ownsModels === false) return;
      await yunet?.close();
      for (const d of others) await d.close();
      await animals?.close();
    })();
    return closed;
  };

  return {
    spec,
    labels: ['face'],
    models,
    async detect(image, detectOptions = {}) {
      const threshold = detectOptions.scoreThreshold ?? spec.thresholds.score;
      const first = await searchYunet(image, threshold);
      let { inferMs, preMs } = first;
      const rest: Detection[] = [];
      const views = await closeUps(image, otherTiles);
      for (const d of others) {
        for (const view of views) {
          const r = await d.detect(view.image, { scoreThreshold: threshold });
          const { left, top } = view;
          for (const f of r.detections) {
            const box: Box = [f.box[0] + left, f.box[1] + top, f.box[2] + left, f.box[3] + top];
            rest.push({ ...f, box });
          }
          inferMs += r.inferMs;
          preMs += r.preMs;
        }
      }
      const detections: Detection[] = [];
      const spared: JudgedFace[] = [];
      for (const c of merge(first.detections, rest)) {
        const t0 = performance.now();
        const verdict = await judgeFace(
          { width: c.box[2] - c.box[0], yunet: c.yunet, other: c.other },
          {
            ...(yunet ? { closerLook: () => closerLook(image, c.box) } : {}),
            ...(animals ? { animalMass: () => animalMassAt(image, c.box) } : {}),
          },
          rules,
        );
        inferMs += performance.now() - t0;
        const d: Detection = {
          box: c.box,
          classIndex: 0,
          label: 'face',
          score: Math.max(c.yunet, c.other),
          ...(c.landmarks ? { landmarks: c.landmarks } : {}),
        };
        if (verdict.redact) detections.push(d);
        else spared.push({ ...d, verdict });
      }
      detections.sort((a, b) => b.score - a.score);
      return { detections, spared, inferMs, preMs, tiles: 1 + others.length * views.length };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
