import { ImageDecodeError, type ModelSpec, toModelView, toTensorData } from '@squeezegate/shared';
import { z } from 'zod';
import {
  bytesToFloat32,
  decodeBytesElements,
  type SplitBody,
  sliceBinary,
  tensorByteSize,
} from '../oip/binary-data.ts';

// Request parsing for the Open Inference Protocol v2 routes (oip-v2.ts): the JSON body through its
// schema, the requested outputs, and the input tensor (FP32, or BYTES of base64 images decoded and
// preprocessed here), each check answering 400 with what was wrong. Tensors come as JSON or, with
// Triton's binary tensor data extension (../oip/binary-data.ts), as bytes after the JSON.
// https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/

// Parameters, spec "Parameters": $parameter = $string : $string | $number | $boolean.
const ParametersSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
// Spec "Tensor Data Types" (BF16 is Triton's addition).
const DatatypeSchema = z.enum([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
]);
// Only "is an array" here: a batch is millions of numbers, checked element by element in the one
// pass (forEachLeaf) that copies them into a Float32Array (zod per element would double the cost).
const TensorDataSchema = z.custom<unknown[]>((v) => Array.isArray(v), 'data must be a JSON array');

/** Spec "Inference Request JSON Object". */
const InferRequestSchema = z
  .object({
    id: z.string().optional(),
    parameters: ParametersSchema.optional(),
    inputs: z
      .array(
        z
          .object({
            name: z.string().min(1),
            shape: z.array(z.number().int().nonnegative()).max(8),
            datatype: DatatypeSchema,
            parameters: ParametersSchema.optional(),
            // Absent when the tensor comes as binary data (parameters.binary_data_size).
            data: TensorDataSchema.optional(),
          })
          .strict(),
      )
      .min(1),
    outputs: z
      .array(z.object({ name: z.string().min(1), parameters: ParametersSchema.optional() }).strict())
      .optional(),
  })
  .strict();
type InferRequest = z.infer<typeof InferRequestSchema>;
type RequestInput = InferRequest['inputs'][number];

const ViewSchema = z.enum(['full', 'crop']);
// Binary tensor data extension: a byte count on an input, a flag on an output or the whole request.
const BinarySizeSchema = z.number().int().nonnegative();
const BinaryFlagSchema = z.boolean();
const ClassificationSchema = z.number().int().positive();
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A failed step: the HTTP status and the message for the `{ error }` body. */
export type Problem = { ok: false; status: 400 | 404 | 500 | 503; error: string };
export type Result<T> = { ok: true; value: T } | Problem;
const bad = (error: string): Problem => ({ ok: false, status: 400, error });

/**
 * Per requested output: raw logits, or Triton's classification extension (top k as "value:index");
 * `binary` when it goes back as binary tensor data.
 */
export type OutputRequest = { name: string; classification?: number; binary: boolean };

/** What the model takes and gives, as far as a request is checked against it. */
export interface OipModelShape {
  spec: ModelSpec;
  /** Classes in the model's output (its last dimension). */
  classes: number;
  /** Largest batch (N) accepted in one request. */
  maxBatch: number;
}

/** An infer request, checked: its id, the outputs to answer with, one tensor per batch item. */
export interface ParsedInfer {
  id: string | undefined;
  outputs: OutputRequest[];
  tensors: Float32Array[];
}

/**
 * Parses an infer request (spec "Inference Request JSON Object", then the binary tensor data when
 * there is any) against the model.
 */
export async function parseInferRequest(body: SplitBody, model: OipModelShape): Promise<Result<ParsedInfer>> {
  const { spec, classes, maxBatch } = model;
  const size = spec.preprocess.centerCrop;
  const plane = 3 * size * size;
  // Parsed here rather than by Hono's json validator, which reads no body unless Content-Type is
  // JSON: `curl -d` sends form encoding, and KServe and Triton parse the body whatever the header.
  let raw: unknown;
  try {
    raw = JSON.parse(body.json);
  } catch {
    return bad(
      'request body is not JSON (binary tensor data needs the Inference-Header-Content-Length header)',
    );
  }
  const parsed = InferRequestSchema.safeParse(raw);
  if (!parsed.success) {
    return bad(
      parsed.error.issues
        .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
        .join('; '),
    );
  }
  const request = parsed.data;
  const binaryOutput = BinaryFlagSchema.optional().safeParse(request.parameters?.binary_data_output);
  if (!binaryOutput.success) return bad('parameters.binary_data_output must be a boolean');
  const outputs = parseOutputs(request.outputs, binaryOutput.data ?? false);
  if (!outputs.ok) return outputs;
  const sizes: (number | undefined)[] = [];
  for (const [i, input] of request.inputs.entries()) {
    const announced = BinarySizeSchema.optional().safeParse(input.parameters?.binary_data_size);
    if (!announced.success) return bad(`inputs.${i}.parameters.binary_data_size must be a byte count`);
    if (announced.data !== undefined && input.data !== undefined) {
      return bad(`inputs.${i}: give data or parameters.binary_data_size, not both`);
    }
    if (announced.data === undefined && input.data === undefined) {
      return bad(`inputs.${i}: data is missing (or parameters.binary_data_size, for binary data)`);
    }
    sizes.push(announced.data);
  }
  const slices = sliceBinary(
    body.binary,
    sizes,
    request.inputs.map((i) => i.name),
  );
  if (!slices.ok) return bad(slices.error);
  if (request.inputs.length !== 1) {
    return bad(`model '${spec.id}' takes 1 input ('${spec.input.name}'), got ${request.inputs.length}`);
  }
  const input = request.inputs[0]!;
  if (input.name !== spec.input.name) {
    return bad(`unknown input '${input.name}'; model '${spec.id}' takes '${spec.input.name}'`);
  }
  const binary = slices.value[0];
  const tensors = input.datatype === 'BYTES' ? await decodeImages(input, binary) : decodeFp32(input, binary);
  if (!tensors.ok) return tensors;
  return { ok: true, value: { id: request.id, outputs: outputs.value, tensors: tensors.value } };

  function parseOutputs(requested: InferRequest['outputs'], binaryDefault: boolean): Result<OutputRequest[]> {
    // Spec: without "outputs", every output comes back with default settings.
    if (requested === undefined)
      return { ok: true, value: [{ name: spec.output.name, binary: binaryDefault }] };
    const value: OutputRequest[] = [];
    for (const [i, o] of requested.entries()) {
      if (o.name !== spec.output.name) {
        return bad(`unknown output '${o.name}'; model '${spec.id}' has '${spec.output.name}'`);
      }
      // An output's own binary_data overrides the request's binary_data_output.
      const flag = BinaryFlagSchema.optional().safeParse(o.parameters?.binary_data);
      if (!flag.success) return bad(`outputs.${i}.parameters.binary_data must be a boolean`);
      const binary = flag.data ?? binaryDefault;
      const k = o.parameters?.classification;
      if (k === undefined) {
        value.push({ name: o.name, binary });
        continue;
      }
      const parsedK = ClassificationSchema.safeParse(k);
      if (!parsedK.success) return bad(`outputs.${i}.parameters.classification must be a positive integer`);
      // As Triton: never more classes than the output has.
      value.push({ name: o.name, classification: Math.min(parsedK.data, classes), binary });
    }
    return { ok: true, value };
  }

  function batchSize(n: number | undefined, where: string): Result<number> {
    if (n === undefined || n < 1) return bad(`${where}: batch is empty`);
    if (n > maxBatch) return bad(`${where}: batch of ${n} exceeds the limit of ${maxBatch}`);
    return { ok: true, value: n };
  }

  function decodeFp32(input: RequestInput, binary: Buffer | undefined): Result<Float32Array[]> {
    const { shape } = input;
    if (input.datatype !== 'FP32') {
      return bad(
        `inputs.0: datatype ${input.datatype} is not supported; send FP32 [N,3,${size},${size}] or BYTES [N] (base64 images)`,
      );
    }
    if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== size || shape[3] !== size) {
      return bad(`inputs.0: FP32 shape must be [N,3,${size},${size}], got [${shape.join(',')}]`);
    }
    const n = batchSize(shape[0], 'inputs.0');
    if (!n.ok) return n;
    const total = n.value * plane;
    if (binary !== undefined) {
      const want = tensorByteSize('FP32', shape)!;
      if (binary.length !== want) {
        return bad(
          `inputs.0: binary_data_size ${binary.length} does not match FP32 [${shape.join(',')}], which takes ${want} bytes`,
        );
      }
      const all = bytesToFloat32(binary);
      return {
        ok: true,
        value: Array.from({ length: n.value }, (_, i) => all.slice(i * plane, (i + 1) * plane)),
      };
    }
    const data = input.data!;
    // Checked and counted before anything is allocated, so a small body cannot claim a 38 MB buffer.
    const count = forEachLeaf(data, shape.length, (v, i) =>
      typeof v === 'number' ? undefined : `inputs.0: data element ${i} is not a number`,
    );
    if (typeof count === 'string') return bad(count);
    if (count !== total) {
      return bad(`inputs.0: data has ${count} elements but shape [${shape.join(',')}] needs ${total}`);
    }
    const value = Array.from({ length: n.value }, () => new Float32Array(plane));
    forEachLeaf(data, shape.length, (v, i) => {
      value[Math.floor(i / plane)]![i % plane] = v as number;
      return undefined;
    });
    return { ok: true, value };
  }

  async function decodeImages(
    input: RequestInput,
    binary: Buffer | undefined,
  ): Promise<Result<Float32Array[]>> {
    const { shape } = input;
    // [N] as asked; [N,1] too, the shape Triton image pipelines declare for one encoded image per item.
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      return bad(`inputs.0: BYTES shape must be [N] (one base64 image per item), got [${shape.join(',')}]`);
    }
    const n = batchSize(shape[0], 'inputs.0');
    if (!n.ok) return n;
    const view = ViewSchema.safeParse(input.parameters?.view ?? 'full');
    if (!view.success) return bad(`inputs.0.parameters.view must be 'full' or 'crop'`);
    // As JSON each image is a base64 string; as binary data, its raw bytes (length-prefixed).
    const images: Buffer[] = [];
    if (binary !== undefined) {
      const items = decodeBytesElements(binary, n.value);
      if (!items.ok) return bad(`inputs.0: ${items.error}`);
      images.push(...items.value);
    } else {
      const count = forEachLeaf(input.data!, shape.length, (v, i) => {
        if (typeof v !== 'string' || !BASE64.test(v))
          return `inputs.0: data element ${i} is not a base64 string`;
        images.push(Buffer.from(v, 'base64'));
        return undefined;
      });
      if (typeof count === 'string') return bad(count);
      if (count !== n.value)
        return bad(`inputs.0: data has ${count} images but shape [${shape.join(',')}] needs ${n.value}`);
    }
    const decoded = await Promise.all(
      images.map(async (bytes, i): Promise<Result<Float32Array>> => {
        try {
          const mv = await toModelView(bytes, { preprocess: spec.preprocess, view: view.data });
          return { ok: true, value: toTensorData(mv.pixels, spec.preprocess) };
        } catch (err) {
          if (err instanceof ImageDecodeError) return bad(`inputs.0: data element ${i}: ${err.message}`);
          throw err;
        }
      }),
    );
    const value: Float32Array[] = [];
    for (const d of decoded) {
      if (!d.ok) return d;
      value.push(d.value);
    }
    return { ok: true, value };
  }
}

/**
 * Visits the leaves of tensor data in row-major order (spec "Tensor Data": natural nested form or
 * flat), nested at most `rank` deep. Returns the leaf count, or the first complaint of `visit`.
 */
function forEachLeaf(
  data: unknown[],
  rank: number,
  visit: (value: unknown, index: number) => string | undefined,
): number | string {
  let count = 0;
  const walk = (node: unknown[], depth: number): string | undefined => {
    for (const v of node) {
      if (Array.isArray(v)) {
        if (depth + 1 >= rank) return `inputs.0: data is nested deeper than its shape's ${rank} dimensions`;
        const err = walk(v, depth + 1);
        if (err !== undefined) return err;
      } else {
        const err = visit(v, count++);
        if (err !== undefined) return err;
      }
    }
    return undefined;
  };
  return walk(data, 0) ?? count;
}
