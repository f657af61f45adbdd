// The remote backend's side of an infer call (../inference/oip-backend.ts): the request for a batch
// of FP32 tensors, as JSON or as binary tensor data, and the logits read back from either kind of
// answer. No I/O here.
import { z } from 'zod';
import {
  BINARY_CONTENT_TYPE,
  type BinaryResult,
  bytesToFloat32,
  float32ToBytes,
  INFERENCE_HEADER_CONTENT_LENGTH,
  joinBody,
  sliceBinary,
} from './binary-data.ts';

/** What the remote model is called and takes. */
export interface InferWireOptions {
  /** Binary tensor data (Triton's extension), else plain JSON. */
  binary: boolean;
  /** The model's input and output names on the server. */
  input: string;
  output: string;
  /** Crop size S of the [N,3,S,S] input. */
  size: number;
}

/** The request for a batch: about 3 MB of JSON per 224² image, or 602 kB of bytes after a small JSON. */
export function inferRequest(inputs: readonly Float32Array[], options: InferWireOptions): RequestInit {
  const { input, output, size } = options;
  const shape = [inputs.length, 3, size, size];
  if (!options.binary) {
    // Typed-array join writes each float as JSON would, without a 150k-element JS array per image.
    const data = inputs.map((x) => x.join(',')).join(',');
    return {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"inputs":[{"name":${JSON.stringify(input)},"shape":[${shape}],"datatype":"FP32","data":[${data}]}]}`,
    };
  }
  const tensor = float32ToBytes(inputs);
  const { body, headerLength } = joinBody(
    {
      inputs: [{ name: input, shape, datatype: 'FP32', parameters: { binary_data_size: tensor.length } }],
      // Logits asked back as binary too: 4 bytes each instead of about 19 characters.
      outputs: [{ name: output, parameters: { binary_data: true } }],
    },
    [tensor],
  );
  return {
    method: 'POST',
    headers: { 'content-type': BINARY_CONTENT_TYPE, [INFERENCE_HEADER_CONTENT_LENGTH]: String(headerLength) },
    body,
  };
}

// Answers from another server: known fields are checked, extra ones (Triton adds some) are dropped.
const InferResponseSchema = z.object({
  model_name: z.string(),
  outputs: z
    .array(
      z.object({
        name: z.string(),
        datatype: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        // Flat, as Triton and KServe answer; absent when the output comes as binary data.
        data: z.array(z.number()).optional(),
        parameters: z.object({ binary_data_size: z.number().int().nonnegative().optional() }).optional(),
      }),
    )
    .min(1),
});

/**
 * The `n`×`classes` logits of an infer answer (its JSON, and the binary data after it), from the
 * output named `output` (else the first), whether it came as JSON numbers or as binary data.
 */
export function readLogits(
  body: unknown,
  binary: Buffer,
  expected: { n: number; classes: number; output: string },
): BinaryResult<Float32Array> {
  const { n, classes } = expected;
  const answer = InferResponseSchema.safeParse(body);
  if (!answer.success) {
    const why = answer.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, error: `not a v2 inference response (${why})` };
  }
  const outputs = answer.data.outputs;
  const slices = sliceBinary(
    binary,
    outputs.map((o) => o.parameters?.binary_data_size),
    outputs.map((o) => o.name),
  );
  if (!slices.ok) return slices;
  const at = Math.max(
    0,
    outputs.findIndex((o) => o.name === expected.output),
  );
  const out = outputs[at]!;
  const bytes = slices.value[at];
  const values = bytes === undefined ? out.data?.length : bytes.length / 4;
  if (
    out.datatype !== 'FP32' ||
    values !== n * classes ||
    out.shape.reduce((a, b) => a * b, 1) !== n * classes
  ) {
    return {
      ok: false,
      error: `output ${out.name} is ${out.datatype} [${out.shape.join(',')}] with ${values ?? 'no'} values${bytes ? ' (binary)' : ''}, expected FP32 [${n},${classes}]`,
    };
  }
  return { ok: true, value: bytes === undefined ? Float32Array.from(out.data!) : bytesToFloat32(bytes) };
}
