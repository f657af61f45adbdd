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

/** Every file `models:fetch` knows how to bring. */
export const ALL_FILES: readonly FileSpec[] = [...MODELS, LABEL_FILE];

export function getModelSpec(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}
