import { ImageDecodeError, type ModelSpec, toModelView, topK, toTensorData } from '@squeezegate/shared';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import type { InferOutcome } from '../inference/backend.ts';

/** The one model served over the Open Inference Protocol v2. */
export interface OipModel {
  /** Model name on the wire is `spec.id`. */
  spec: ModelSpec;
  ready(): boolean;
  /** Preprocessed tensors (3×S×S float32 each, S = spec.preprocess.centerCrop) → one outcome each (batched by the caller). */
  infer(inputs: Float32Array[]): Promise<InferOutcome[]>;
}

export interface OipRoutesOptions {
  /** Largest batch (N) accepted in one infer request. */
  maxBatch?: number;
  /** Largest infer body. FP32 as JSON costs about 3 MB per 224² image; base64 JPEG about 30 kB. */
  maxBodyBytes?: number;
}

const MODEL_VERSION = '1';

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
// Only "is an array" here: a batch is millions of numbers, and flattenTensor checks every element
// in the one pass that copies it into a Float32Array (zod per element would double the cost).
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
            data: TensorDataSchema,
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
const ClassificationSchema = z.number().int().positive();
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

type Problem = { ok: false; status: 400 | 404 | 500 | 503; error: string };
type Result<T> = { ok: true; value: T } | Problem;
const bad = (error: string): Problem => ({ ok: false, status: 400, error });

/** Per requested output: raw logits, or Triton's classification extension (top k as "value:index"). */
type OutputRequest = { name: string; classification?: number };

/**
 * Open Inference Protocol v2 (KServe v2 REST) for one model, to mount at `/v2`. Besides FP32
 * [N,3,S,S] tensors it takes BYTES [N] of base64 images (JPEG/PNG/WebP) and preprocesses them
 * itself, and it honours Triton's classification extension on the output.
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */
export function createOipRoutes(model: OipModel, options: OipRoutesOptions = {}): Hono {
  const { maxBatch = 64, maxBodyBytes = 64 * 1024 * 1024 } = options;
  const { spec } = model;
  const size = spec.preprocess.centerCrop;
  const plane = 3 * size * size;
  const classes = Number(spec.output.shape.at(-1));
  if (!Number.isInteger(classes) || classes < 1) {
    throw new TypeError(
      `model ${spec.id}: output shape ${JSON.stringify(spec.output.shape)} has no class count`,
    );
  }
  const app = new Hono();

  /** 404 for a name or version this server does not have. */
  const missing = (c: Context): Response | undefined => {
    const name = c.req.param('name');
    const version = c.req.param('version');
    if (name !== spec.id)
      return c.json({ error: `unknown model '${name}'; this server has '${spec.id}'` }, 404);
    if (version !== undefined && version !== MODEL_VERSION) {
      return c.json(
        { error: `unknown version '${version}' of model '${name}'; it has '${MODEL_VERSION}'` },
        404,
      );
    }
    return undefined;
  };
  const paths = (suffix: string) => [`/models/:name${suffix}`, `/models/:name/versions/:version${suffix}`];

  // The classification extension is implemented, and Triton lists it here for that reason.
  app.get('/', (c) => c.json({ name: 'squeezegate', version: pkg.version, extensions: ['classification'] }));
  // Spec "Health": the status code is the answer, the body should be empty.
  app.get('/health/live', (c) => c.body(null, 200));
  app.get('/health/ready', (c) => c.body(null, model.ready() ? 200 : 503));
  app.on('GET', paths('/ready'), (c) => missing(c) ?? c.body(null, model.ready() ? 200 : 503));
  app.on(
    'GET',
    paths(''),
    (c) =>
      missing(c) ??
      c.json({
        name: spec.id,
        versions: [MODEL_VERSION],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: spec.input.name, datatype: 'FP32', shape: [-1, 3, size, size] }],
        outputs: [{ name: spec.output.name, datatype: 'FP32', shape: [-1, classes] }],
      }),
  );

  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => c.json({ error: `request body exceeds ${maxBodyBytes} bytes` }, 413),
  });
  app.on('POST', paths('/infer'), limit, async (c) => {
    const miss = missing(c);
    if (miss) return miss;
    if (!model.ready()) return c.json({ error: `model '${spec.id}' is not ready` }, 503);
    const answer = await infer(await c.req.text());
    return answer.ok ? c.json(answer.value) : c.json({ error: answer.error }, answer.status);
  });

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: err.message }, err instanceof HTTPException ? err.status : 500));
  return app;

  async function infer(text: string): Promise<Result<unknown>> {
    // Parsed here rather than by Hono's json validator, which reads no body unless Content-Type is
    // JSON: `curl -d` sends form encoding, and KServe and Triton parse the body whatever the header.
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return bad('request body is not JSON');
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
    const outputs = parseOutputs(request.outputs);
    if (!outputs.ok) return outputs;
    if (request.inputs.length !== 1) {
      return bad(`model '${spec.id}' takes 1 input ('${spec.input.name}'), got ${request.inputs.length}`);
    }
    const input = request.inputs[0]!;
    if (input.name !== spec.input.name) {
      return bad(`unknown input '${input.name}'; model '${spec.id}' takes '${spec.input.name}'`);
    }
    const tensors = input.datatype === 'BYTES' ? await decodeImages(input) : decodeFp32(input);
    if (!tensors.ok) return tensors;
    const logits = collect(await model.infer(tensors.value), tensors.value.length);
    if (!logits.ok) return logits;
    return {
      ok: true,
      value: {
        model_name: spec.id,
        model_version: MODEL_VERSION,
        ...(request.id !== undefined && { id: request.id }),
        outputs: outputs.value.map((o) => respond(o, logits.value)),
      },
    };
  }

  function parseOutputs(requested: InferRequest['outputs']): Result<OutputRequest[]> {
    // Spec: without "outputs", every output comes back with default settings.
    if (requested === undefined) return { ok: true, value: [{ name: spec.output.name }] };
    const value: OutputRequest[] = [];
    for (const [i, o] of requested.entries()) {
      if (o.name !== spec.output.name) {
        return bad(`unknown output '${o.name}'; model '${spec.id}' has '${spec.output.name}'`);
      }
      const k = o.parameters?.classification;
      if (k === undefined) {
        value.push({ name: o.name });
        continue;
      }
      const parsedK = ClassificationSchema.safeParse(k);
      if (!parsedK.success) return bad(`outputs.${i}.parameters.classification must be a positive integer`);
      // As Triton: never more classes than the output has.
      value.push({ name: o.name, classification: Math.min(parsedK.data, classes) });
    }
    return { ok: true, value };
  }

  function batchSize(n: number | undefined, where: string): Result<number> {
    if (n === undefined || n < 1) return bad(`${where}: batch is empty`);
    if (n > maxBatch) return bad(`${where}: batch of ${n} exceeds the limit of ${maxBatch}`);
    return { ok: true, value: n };
  }

  function decodeFp32(input: RequestInput): Result<Float32Array[]> {
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
    // Checked and counted before anything is allocated, so a small body cannot claim a 38 MB buffer.
    const count = forEachLeaf(input.data, shape.length, (v, i) =>
      typeof v === 'number' ? undefined : `inputs.0: data element ${i} is not a number`,
    );
    if (typeof count === 'string') return bad(count);
    if (count !== total) {
      return bad(`inputs.0: data has ${count} elements but shape [${shape.join(',')}] needs ${total}`);
    }
    const value = Array.from({ length: n.value }, () => new Float32Array(plane));
    forEachLeaf(input.data, shape.length, (v, i) => {
      value[Math.floor(i / plane)]![i % plane] = v as number;
      return undefined;
    });
    return { ok: true, value };
  }

  async function decodeImages(input: RequestInput): Promise<Result<Float32Array[]>> {
    const { shape } = input;
    // [N] as asked; [N,1] too, the shape Triton image pipelines declare for one encoded image per item.
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      return bad(`inputs.0: BYTES shape must be [N] (one base64 image per item), got [${shape.join(',')}]`);
    }
    const n = batchSize(shape[0], 'inputs.0');
    if (!n.ok) return n;
    const view = ViewSchema.safeParse(input.parameters?.view ?? 'full');
    if (!view.success) return bad(`inputs.0.parameters.view must be 'full' or 'crop'`);
    const images: string[] = [];
    const count = forEachLeaf(input.data, shape.length, (v, i) => {
      if (typeof v !== 'string' || !BASE64.test(v))
        return `inputs.0: data element ${i} is not a base64 string`;
      images.push(v);
      return undefined;
    });
    if (typeof count === 'string') return bad(count);
    if (count !== n.value)
      return bad(`inputs.0: data has ${count} images but shape [${shape.join(',')}] needs ${n.value}`);
    const decoded = await Promise.all(
      images.map(async (b64, i): Promise<Result<Float32Array>> => {
        try {
          const bytes = Buffer.from(b64, 'base64');
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

  function collect(outcomes: InferOutcome[], n: number): Result<Float32Array[]> {
    if (outcomes.length !== n) {
      return { ok: false, status: 500, error: `inference gave ${outcomes.length} outcomes for ${n} inputs` };
    }
    const value: Float32Array[] = [];
    let busy: Problem | undefined;
    for (const outcome of outcomes) {
      switch (outcome.kind) {
        case 'ok':
          if (outcome.logits.length !== classes) {
            return {
              ok: false,
              status: 500,
              error: `model gave ${outcome.logits.length} logits, expected ${classes}`,
            };
          }
          value.push(outcome.logits);
          break;
        case 'busy':
          busy ??= {
            ok: false,
            status: 503,
            error: `busy: ${outcome.queued} requests queued, try again later`,
          };
          break;
        case 'failed':
          // A real failure says more than a shed item of the same request.
          return { ok: false, status: 500, error: `inference failed: ${outcome.message}` };
      }
    }
    return busy ?? { ok: true, value };
  }

  function respond(output: OutputRequest, logits: Float32Array[]) {
    const n = logits.length;
    const k = output.classification;
    if (k === undefined) {
      const data = new Array<number>(n * classes);
      logits.forEach((l, i) => {
        for (let c = 0; c < classes; c++) data[i * classes + c] = l[c]!;
      });
      return { name: output.name, datatype: 'FP32', shape: [n, classes], data };
    }
    // Triton's format: "<value>:<index>", value as C++ std::to_string prints a float (6 decimals).
    const data = logits.flatMap((l) => topK(l, k).map(({ index, p }) => `${p.toFixed(6)}:${index}`));
    return { name: output.name, datatype: 'BYTES', shape: [n, k], data };
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
