import { z } from 'zod';
import { DETECTION_FILES, FileSpecSchema } from '../models/catalog.ts';

/**
 * The detectors squeezegate can run, with everything DETECTION.md says about feeding and
 * decoding each one. File facts (size, sha256, urls) come from `DETECTION_FILES`.
 */
const Triple = z.tuple([z.number(), z.number(), z.number()]);

export const DetectorPreprocessSchema = z
  .object({
    channelOrder: z.enum(['RGB', 'BGR']),
    /** Per model input channel (in `channelOrder`): value = (px − mean) / std, px in 0..255. */
    mean: Triple,
    std: Triple,
    /**
     * `letterbox`: keep the aspect ratio (r = min(W_in/W, H_in/H), size floor(W·r)×floor(H·r)),
     * padded with `pad` at `anchor`; `stretch`: resize the frame to the input size.
     */
    fit: z.enum(['letterbox', 'stretch']),
    anchor: z.enum(['top-left', 'centre']),
    /** Pixel value (0..255, before normalisation) of the letterbox padding. */
    pad: z.number().min(0).max(255),
  })
  .strict();
export type DetectorPreprocess = z.infer<typeof DetectorPreprocessSchema>;

export const DetectorSpecSchema = FileSpecSchema.extend({
  id: z.string().min(1),
  family: z.enum(['yolox', 'picodet', 'squeezedet', 'ultraface', 'yunet']),
  role: z.enum(['detector', 'face']),
  /** Not the published model or accuracy not established: never a default. */
  experimental: z.boolean().optional(),
  /** Number of classes the model scores (the label file may hold a leading `background`). */
  classes: z.number().int().positive(),
  /** The input size; a model with `dynamic` runs at any multiple of it (this size is the default). */
  input: z
    .object({
      name: z.string(),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      /**
       * The graph takes any H×W that are multiples of `multiple` (YuNet's dynamic export): each
       * image runs at its own size (times DetectOptions.scale), padded up, longer side at most `maxSide`.
       */
      dynamic: z
        .object({ multiple: z.number().int().positive(), maxSide: z.number().int().positive() })
        .strict()
        .optional(),
    })
    .strict(),
  /** Graph outputs, in the order the decoder reads them. */
  outputs: z.array(z.string()).min(1),
  preprocess: DetectorPreprocessSchema,
  labels: FileSpecSchema,
  thresholds: z
    .object({
      score: z.number().min(0).max(1),
      /** IoU above which NMS suppresses the lower-scored box. */
      nms: z.number().min(0).max(1),
      maxDetections: z.number().int().positive(),
      /** Candidates kept (by score) before NMS, as SqueezeDet's `filter_prediction` does. */
      preNmsTopK: z.number().int().positive().optional(),
    })
    .strict(),
  licence: z.string().optional(),
}).strict();
export type DetectorSpec = z.infer<typeof DetectorSpecSchema>;

const COCO_YOLOX: DetectorPreprocess = {
  channelOrder: 'BGR',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  fit: 'letterbox',
  anchor: 'top-left',
  pad: 114,
};
const ULTRAFACE: DetectorPreprocess = {
  channelOrder: 'RGB',
  mean: [127, 127, 127],
  std: [128, 128, 128],
  fit: 'stretch',
  anchor: 'top-left',
  pad: 0,
};
// DETECTION.md §4: face prob ≥ 0.7, NMS 0.3. No cap in practice: the crowd photos hold 109–146
// faces, and a face left out of the list is a face left unblurred.
const ULTRAFACE_THRESHOLDS = { score: 0.7, nms: 0.3, maxDetections: 1000 } as const;

export const DETECTORS = [
  {
    ...DETECTION_FILES.yoloxNano416,
    id: 'yolox-nano-416',
    family: 'yolox',
    role: 'detector',
    classes: 80,
    input: { name: 'images', width: 416, height: 416 },
    outputs: ['output'],
    preprocess: COCO_YOLOX,
    labels: DETECTION_FILES.yoloxLabels,
    // DETECTION.md §1: obj×cls ≥ 0.3 (upstream demo), class-aware NMS 0.45.
    thresholds: { score: 0.3, nms: 0.45, maxDetections: 100 },
    licence: 'Apache-2.0',
  },
  {
    ...DETECTION_FILES.picodetS320,
    id: 'picodet-s-320',
    family: 'picodet',
    role: 'detector',
    classes: 80,
    input: { name: 'image', width: 320, height: 320 },
    outputs: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `save_infer_model/scale_${i}.tmp_1`),
    preprocess: {
      channelOrder: 'RGB',
      mean: [123.675, 116.28, 103.53],
      std: [58.395, 57.12, 57.375],
      fit: 'letterbox',
      anchor: 'centre',
      pad: 0,
    },
    labels: DETECTION_FILES.picodetLabels,
    thresholds: { score: 0.3, nms: 0.5, maxDetections: 100 },
    licence: 'Apache-2.0',
  },
  {
    ...DETECTION_FILES.squeezedetKitti,
    id: 'squeezedet-kitti-experimental',
    family: 'squeezedet',
    role: 'detector',
    experimental: true,
    classes: 3,
    input: { name: 'image', width: 1248, height: 384 },
    outputs: ['boxes', 'scores'],
    preprocess: {
      channelOrder: 'BGR',
      mean: [103.939, 116.779, 123.68],
      std: [1, 1, 1],
      fit: 'stretch',
      anchor: 'top-left',
      pad: 0,
    },
    labels: DETECTION_FILES.squeezedetLabels,
    // SqueezeDet's filter_prediction: top 64, NMS 0.4, then PLOT_PROB_THRESH 0.4.
    thresholds: { score: 0.4, nms: 0.4, maxDetections: 64, preNmsTopK: 64 },
    licence: 'unclear (weights export has no licence file)',
  },
  {
    ...DETECTION_FILES.ultrafaceRfb320,
    id: 'ultraface-rfb320',
    family: 'ultraface',
    role: 'face',
    classes: 1,
    input: { name: 'input', width: 320, height: 240 },
    outputs: ['scores', 'boxes'],
    preprocess: ULTRAFACE,
    labels: DETECTION_FILES.ultrafaceLabels,
    thresholds: ULTRAFACE_THRESHOLDS,
    licence: 'MIT',
  },
  {
    ...DETECTION_FILES.ultrafaceRfb640,
    id: 'ultraface-rfb640',
    family: 'ultraface',
    role: 'face',
    classes: 1,
    input: { name: 'input', width: 640, height: 480 },
    outputs: ['scores', 'boxes'],
    preprocess: ULTRAFACE,
    labels: DETECTION_FILES.ultrafaceLabels,
    thresholds: ULTRAFACE_THRESHOLDS,
    licence: 'MIT',
  },
  {
    ...DETECTION_FILES.yunetDynamic,
    id: 'yunet-s',
    family: 'yunet',
    role: 'face',
    classes: 1,
    // DETECTION.md §5: H and W multiples of 32; 320² is the size the table times.
    input: { name: 'input', width: 320, height: 320, dynamic: { multiple: 32, maxSide: 2048 } },
    outputs: ['cls', 'obj', 'bbox', 'kps'].flatMap((k) => [8, 16, 32].map((s) => `${k}_${s}`)),
    preprocess: {
      channelOrder: 'BGR',
      mean: [0, 0, 0],
      std: [1, 1, 1],
      fit: 'letterbox',
      anchor: 'top-left',
      pad: 0,
    },
    labels: DETECTION_FILES.yunetLabels,
    // DETECTION.md §5: score ≥ 0.6 (OpenCV Zoo demo), NMS 0.3, top-k 5000.
    thresholds: { score: 0.6, nms: 0.3, maxDetections: 5000 },
    licence: 'Apache-2.0 (libfacedetection.train); MIT in OpenCV Zoo',
  },
] as const satisfies readonly DetectorSpec[];

export type DetectorId = (typeof DETECTORS)[number]['id'];
export const DETECTOR_IDS = DETECTORS.map((d) => d.id) as [DetectorId, ...DetectorId[]];
/** The recommended edge detector (DETECTION.md). */
export const DEFAULT_DETECTOR_ID: DetectorId = 'yolox-nano-416';
/** The recommended face detector for blurring (DETECTION.md). */
export const DEFAULT_FACE_DETECTOR_ID: DetectorId = 'ultraface-rfb320';

/** Separates the models of a face search id: `yunet-s+ultraface-rfb320`. */
export const FACE_SEARCH_SEPARATOR = '+';
/**
 * The face search that redacts by default (issue 15): YuNet (landmarks, own scale) with
 * UltraFace-320 for profiles and cut-off faces, human check on; UltraFace-640 is left to audit it.
 */
export const DEFAULT_FACE_SEARCH_ID = 'yunet-s+ultraface-rfb320';

/** The face models a face search id names, in order; an id without `+` names one. */
export function faceSearchModels(id: string): string[] {
  return id.split(FACE_SEARCH_SEPARATOR).map((s) => s.trim());
}

/** Whether `id` names face models only (one, or several joined by `+`, none twice). */
export function isFaceSearchId(id: string): boolean {
  const ids = faceSearchModels(id);
  const faces = new Set<string>(DETECTORS.filter((d) => d.role === 'face').map((d) => d.id));
  return ids.length > 0 && new Set(ids).size === ids.length && ids.every((m) => faces.has(m));
}

export function getDetectorSpec(id: string): DetectorSpec | undefined {
  return DETECTORS.find((d) => d.id === id);
}
