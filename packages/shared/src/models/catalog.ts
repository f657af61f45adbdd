import { z } from 'zod';

/**
 * The model manifest: every file squeezegate may load, with the facts a loader checks
 * (size, sha256) and the facts inference needs (tensor names, preprocessing, labels).
 * Numbers come from `shared/models/manifest.json` and MODELS.md; `urls` are the upstream
 * locations `npm run models:fetch` tries (after an optional mirror).
 */
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Dim = z.union([z.number().int().positive(), z.string()]);

export const PreprocessSchema = z
  .object({
    channelOrder: z.enum(['RGB', 'BGR']),
    resizeShortSide: z.number().int().positive(),
    centerCrop: z.number().int().positive(),
    /** Multiplier applied to the 0..255 pixel before mean/std. */
    scale: z.number().positive(),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
  })
  .strict();
export type Preprocess = z.infer<typeof PreprocessSchema>;

export const FileSpecSchema = z
  .object({
    file: z.string().min(1),
    bytes: z.number().int().positive(),
    sha256: Sha256,
    /** Upstream URLs serving these exact bytes; empty when only a mirror has them. */
    urls: z.array(z.url()),
    /** Where the bytes come from when no URL serves this exact file. */
    origin: z.string().optional(),
  })
  .strict();
export type FileSpec = z.infer<typeof FileSpecSchema>;

export const ModelSpecSchema = FileSpecSchema.extend({
  id: z.string().min(1),
  role: z.enum(['edge', 'edge-alt', 'cloud']),
  task: z.literal('classify'),
  input: z.object({ name: z.string(), shape: z.array(Dim) }).strict(),
  output: z.object({ name: z.string(), shape: z.array(Dim), kind: z.literal('logits') }).strict(),
  preprocess: PreprocessSchema,
  labels: z.literal('imagenet'),
  /** Top-1 on the 1000-image sample set, percent (MODELS.md). */
  sampleTop1: z.number().optional(),
}).strict();
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

const TORCHVISION: Preprocess = {
  channelOrder: 'RGB',
  resizeShortSide: 256,
  centerCrop: 224,
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

export const MODELS = [
  {
    id: 'squeezenet1.1',
    file: 'squeezenet1.1.onnx',
    role: 'edge',
    task: 'classify',
    bytes: 4_959_045,
    sha256: '1695c3755e90d482c8cea592b2b6028cf3dce5baf58d019d55e3b93aa0824feb',
    urls: [],
    origin:
      'ONNX export of torchvision squeezenet1_1 (https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth); no upstream serves this exact file, use --mirror',
    input: { name: 'data', shape: ['N', 3, 224, 224] },
    output: { name: 'logits', shape: ['N', 1000], kind: 'logits' },
    preprocess: TORCHVISION,
    labels: 'imagenet',
    sampleTop1: 64.3,
  },
  {
    id: 'squeezenet1.0-deepcompression',
    file: 'squeezenet1.0-deepcompression.onnx',
    role: 'edge-alt',
    task: 'classify',
    bytes: 1_309_544,
    sha256: 'c8364957a53e45aae2ed08f62eca2c8c030d12bafb58fc435d3e66388c9b264a',
    urls: [],
    origin:
      'ONNX build of https://github.com/songhan/SqueezeNet-Deep-Compression; no upstream serves this exact file, use --mirror',
    input: { name: 'data', shape: ['N', 3, 227, 227] },
    output: { name: 'logits', shape: ['N', 1000], kind: 'logits' },
    preprocess: {
      channelOrder: 'BGR',
      resizeShortSide: 256,
      centerCrop: 227,
      scale: 1,
      mean: [104, 117, 123],
      std: [1, 1, 1],
    },
    labels: 'imagenet',
    sampleTop1: 62.5,
  },
  {
    id: 'mobilenetv2-12-int8',
    file: 'mobilenetv2-12-int8.onnx',
    role: 'cloud',
    task: 'classify',
    bytes: 3_655_033,
    sha256: 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f',
    urls: [
      'https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx',
    ],
    input: { name: 'input', shape: ['batch_size', 3, 224, 224] },
    output: { name: 'output', shape: ['batch_size', 1000], kind: 'logits' },
    preprocess: TORCHVISION,
    labels: 'imagenet',
    sampleTop1: 82.0,
  },
] as const satisfies readonly ModelSpec[];

export type ModelId = (typeof MODELS)[number]['id'];
export const MODEL_IDS = MODELS.map((m) => m.id) as [ModelId, ...ModelId[]];

/** ImageNet-1k class names, in ILSVRC2012 index order (the order of all three models' outputs). */
export const LABEL_FILE = {
  file: 'imagenet-simple-labels.json',
  bytes: 14_209,
  sha256: '987705581d9446328498f950454a1cc7d8dfc578a8243d8bfdcd2588a6905aae',
  urls: [
    'https://raw.githubusercontent.com/anishathalye/imagenet-simple-labels/master/imagenet-simple-labels.json',
  ],
} as const satisfies FileSpec;

const COCO_LABELS_ORIGIN =
  'the 80 official COCO class names, one per line (index = class id), as shipped with DETECTION.md; no upstream serves this exact file, use --mirror';

/**
 * Detector and face-detector files (DETECTION.md), under `detection/` in the models directory.
 * Only the facts a loader checks live here; how each model runs is `DETECTORS` in
 * `detection/catalog.ts`, which imports these (never the other way round, so the two
 * catalogs have no import cycle).
 */
export const DETECTION_FILES = {
  yoloxNano416: {
    file: 'detection/yolox_nano_416_coco.onnx',
    bytes: 3_660_092,
    sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
    // Byte-identical copy at this commit (DETECTION.md §1).
    urls: [
      'https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/3d4f1119d0694200671c08069ecb847aa0d8495a/model/yolox_nano.onnx',
    ],
  },
  yoloxLabels: {
    file: 'detection/yolox_nano_416_coco.labels.txt',
    bytes: 621,
    sha256: 'bd17f1ee35d5f3c862a4894605855abbb9dda4b0621fdb0ac4c2c8c7bb7e730a',
    urls: [],
    origin: COCO_LABELS_ORIGIN,
  },
  picodetS320: {
    file: 'detection/picodet_s_320_coco.onnx',
    bytes: 4_032_463,
    sha256: 'e0a3510dfc37fa6a8743b487c89d9f6bf7734ed6ef6a406a2e1970d229a8157d',
    urls: [],
    origin:
      'github.com/hpc203/picodet-onnxruntime coco/picodet_s_320_coco.onnx @ dfe4d6cd with the initializers removed from graph.input (lossless); no upstream serves this exact file, use --mirror',
  },
  picodetLabels: {
    file: 'detection/picodet_s_320_coco.labels.txt',
    bytes: 621,
    sha256: 'bd17f1ee35d5f3c862a4894605855abbb9dda4b0621fdb0ac4c2c8c7bb7e730a',
    urls: [],
    origin: COCO_LABELS_ORIGIN,
  },
  squeezedetKitti: {
    file: 'detection/squeezedet_kitti_forge_conv12x1_EXPERIMENTAL.onnx',
    bytes: 7_099_234,
    sha256: '4adf1915c18fe647a250ae3b67b2ee54fd195182d78ee0a5a907b27e67949fba',
    urls: [],
    origin:
      'own ONNX build of the SqueezeDet graph with the per-layer weights of github.com/jordanhart/SqueezeDetMobileForgeiOS @ 2bdee74a (conv12 is 1x1, not the published 3x3; redistribution status unclear); no upstream serves this file, use --mirror',
  },
  squeezedetLabels: {
    file: 'detection/squeezedet_kitti.labels.txt',
    bytes: 23,
    sha256: '0014c6711e98fb5d557d13e3f930b0c8daec5ed3a8160e68f3604c37f5bc2e34',
    urls: [],
    origin: 'car, pedestrian, cyclist (SqueezeDet KITTI class order); use --mirror',
  },
  ultrafaceRfb320: {
    file: 'detection/ultraface_rfb320.onnx',
    bytes: 1_259_725,
    sha256: 'b63e0028667fd9e7e5dcc56ebd91e85281b8df1498b4c3c5799de9229305c0b1',
    urls: [],
    origin:
      'github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB models/onnx/version-RFB-320.onnx @ dffdddda with the initializers removed from graph.input (lossless); no upstream serves this exact file, use --mirror',
  },
  ultrafaceRfb640: {
    file: 'detection/ultraface_rfb640.onnx',
    bytes: 1_577_010,
    sha256: 'a9e7cb5308de493844547e3ffdc4458f68fc81da9672f33f1074ed149db36578',
    urls: [],
    origin:
      'github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB models/onnx/version-RFB-640.onnx @ dffdddda with the initializers removed from graph.input (lossless); no upstream serves this exact file, use --mirror',
  },
  ultrafaceLabels: {
    file: 'detection/ultraface.labels.txt',
    bytes: 16,
    sha256: '4906796f240d09d35ca93217806fa4ecbb150f976f58dc1cde1bca45986bc18a',
    urls: [],
    origin: 'background, face (UltraFace output columns); use --mirror',
  },
  yunetDynamic: {
    file: 'detection/yunet_s_dynamic.onnx',
    bytes: 237_823,
    sha256: 'daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3',
    // Byte-identical copy at this commit (DETECTION.md §5).
    urls: [
      'https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_s_dynamic.onnx',
    ],
  },
  yunetLabels: {
    file: 'detection/yunet.labels.txt',
    bytes: 5,
    sha256: '98d57c25a2bed283c090bc2508078faff041262880bec9b6b744e6372d4a5f09',
    urls: [],
    origin: 'face (YuNet scores one class); use --mirror',
  },
} as const satisfies Record<string, FileSpec>;

/** Every file `models:fetch` knows how to bring. */
export const ALL_FILES: readonly FileSpec[] = [...MODELS, LABEL_FILE, ...Object.values(DETECTION_FILES)];

export function getModelSpec(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}
