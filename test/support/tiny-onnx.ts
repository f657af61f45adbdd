/**
 * Tiny ONNX classifiers built in code, so unit tests exercise onnxruntime without the real
 * models: `data` [N,3,S,S] → ReduceMean(axes 2,3) → MatMul W[3,K] → `logits` [N,K].
 * The logits are a linear function of the image's mean normalised colour, which makes the
 * outcome for a solid-colour image predictable.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ModelSpec, ModelSpecSchema } from '@squeezegate/shared';
// onnx-proto is CommonJS (`module.exports = $root`); Node's ESM loader only exposes its
// default export, so the named `onnx` namespace is taken from there.
import onnxProto from 'onnx-proto';
import sharp from 'sharp';

const { onnx } = onnxProto;

/** The opset in which ReduceMean still takes `axes` as an attribute (it became an input in 18). */
const OPSET = 13;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

export interface TinyClassifierOptions {
  /** Output classes K. */
  classes?: number;
  /** Input side S (the spec's `centerCrop`). */
  size?: number;
  /**
   * W, row-major [3, K]: `W[c * K + k]` is how much normalised channel c (R, G, B) adds to
   * class k. Default: 20 on R→0, G→1, B→2 (where those classes exist), so a red image is
   * class 0 with p ≈ 1 and a mid-grey one (normalised ≈ 0) is near-uniform.
   */
  weights?: Float32Array;
  /** Graph input name; change it to build a model that does not match its spec. */
  inputName?: string;
  /** Graph output name. */
  outputName?: string;
}

/** Default weights: see {@link TinyClassifierOptions.weights}. */
export function defaultTinyWeights(classes: number): Float32Array {
  const w = new Float32Array(3 * classes);
  for (let c = 0; c < Math.min(3, classes); c++) w[c * classes + c] = 20;
  return w;
}

function tensorType(dims: readonly (number | string)[]): InstanceType<typeof onnx.TypeProto> {
  return onnx.TypeProto.create({
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  });
}

/** Serialised ONNX bytes of the tiny classifier described in the module comment. */
export function buildTinyClassifier(options: TinyClassifierOptions = {}): Uint8Array {
  const { classes = 1000, size = 224, inputName = 'data', outputName = 'logits' } = options;
  const weights = options.weights ?? defaultTinyWeights(classes);
  if (weights.length !== 3 * classes) {
    throw new RangeError(`weights has ${weights.length} values, expected 3 × ${classes}`);
  }
  // ONNX raw_data is little-endian whatever the host.
  const raw = new DataView(new ArrayBuffer(weights.length * 4));
  for (let i = 0; i < weights.length; i++) raw.setFloat32(i * 4, weights[i]!, true);

  const graph = onnx.GraphProto.create({
    name: 'tiny-classifier',
    node: [
      onnx.NodeProto.create({
        opType: 'ReduceMean',
        input: [inputName],
        output: ['pooled'],
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [2, 3] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['pooled', 'W'], output: [outputName] }),
    ],
    initializer: [
      onnx.TensorProto.create({
        name: 'W',
        dataType: FLOAT,
        dims: [3, classes],
        rawData: new Uint8Array(raw.buffer),
      }),
    ],
    input: [{ name: inputName, type: tensorType(['N', 3, size, size]) }],
    output: [{ name: outputName, type: tensorType(['N', classes]) }],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'squeezegate-tests',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads the input side and class count back from tiny-classifier bytes. */
function shapeOf(bytes: Uint8Array): { size: number; classes: number } {
  const graph = onnx.ModelProto.decode(bytes).graph;
  const inDims = graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const outDims = graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const size = Number(inDims[3]?.dimValue ?? 0);
  const classes = Number(outDims[1]?.dimValue ?? 0);
  if (!(size > 0 && classes > 0)) throw new Error('not a tiny classifier: cannot read its shapes');
  return { size, classes };
}

/**
 * Writes model bytes to `dir` and returns a manifest entry for them (real size and sha256,
 * torchvision preprocessing scaled to the model's side). The spec always expects the tensor
 * names `data` → `logits`, whatever the graph uses.
 */
export async function writeTinyModel(
  dir: string,
  bytes: Uint8Array,
  options: { id?: string } = {},
): Promise<{ spec: ModelSpec; path: string }> {
  const { id = 'tiny-test' } = options;
  const { size, classes } = shapeOf(bytes);
  const file = `${id}.onnx`;
  const target = path.join(dir, file);
  await writeFile(target, bytes);
  const spec = ModelSpecSchema.parse({
    id,
    file,
    role: 'edge',
    task: 'classify',
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    urls: [],
    input: { name: 'data', shape: ['N', 3, size, size] },
    output: { name: 'logits', shape: ['N', classes], kind: 'logits' },
    preprocess: {
      channelOrder: 'RGB',
      resizeShortSide: Math.round((size * 256) / 224),
      centerCrop: size,
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    labels: 'imagenet',
  });
  return { spec, path: target };
}

/** A solid-colour JPEG (quality 95, no metadata). */
export function solidJpeg(
  rgb: readonly [number, number, number],
  width = 320,
  height = 256,
): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .jpeg({ quality: 95 })
    .toBuffer();
}
