import { createRequire } from 'node:module';
import { type ModelSpec, topK } from '@squeezegate/shared';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { InferOutcome } from '../inference/backend.ts';
import type { SplitBody } from '../oip/binary-data.ts';
import {
  BINARY_CONTENT_TYPE,
  encodeBytesElements,
  float32ToBytes,
  INFERENCE_HEADER_CONTENT_LENGTH,
  joinBody,
  splitBody,
} from '../oip/binary-data.ts';
import { type OutputRequest, type Problem, parseInferRequest, type Result } from './oip-v2-parse.ts';

// The package's own manifest, two levels up from src/http/ and from the compiled dist/http/ alike
// (an import attribute would make tsc copy it into dist/, outside rootDir).
const pkg = z.object({ version: z.string() }).parse(createRequire(import.meta.url)('../../package.json'));

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
  /**
   * Largest infer body. FP32 as JSON costs about 3 MB per 224² image, as binary tensor data 602 kB;
   * base64 JPEG about 30 kB.
   */
  maxBodyBytes?: number;
}

const MODEL_VERSION = '1';

/**
 * Open Inference Protocol v2 (KServe v2 REST) for one model, to mount at `/v2`. Besides FP32
 * [N,3,S,S] tensors it takes BYTES [N] of base64 images (JPEG/PNG/WebP) and preprocesses them
 * itself, and it honours Triton's classification extension on the output and its binary tensor
 * data extension both ways (tensors as bytes after the JSON, ../oip/binary-data.ts).
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */
export function createOipRoutes(model: OipModel, options: OipRoutesOptions = {}): Hono {
  const { maxBatch = 64, maxBodyBytes = 64 * 1024 * 1024 } = options;
  const { spec } = model;
  const size = spec.preprocess.centerCrop;
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

  // Both extensions are implemented, and Triton lists them here under these names.
  app.get('/', (c) =>
    c.json({
      name: 'squeezegate',
      version: pkg.version,
      extensions: ['classification', 'binary_tensor_data'],
    }),
  );
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
    const body = splitBody(
      Buffer.from(await c.req.arrayBuffer()),
      c.req.header(INFERENCE_HEADER_CONTENT_LENGTH),
    );
    if (!body.ok) return c.json({ error: body.error }, 400);
    const answer = await infer(body.value);
    if (!answer.ok) return c.json({ error: answer.error }, answer.status);
    const { json, chunks } = answer.value;
    // Spec: the extension's framing only when some tensor is binary; otherwise plain JSON.
    if (chunks.length === 0) return c.json(json);
    const { body: bytes, headerLength } = joinBody(json, chunks);
    return c.body(bytes, 200, {
      'content-type': BINARY_CONTENT_TYPE,
      [INFERENCE_HEADER_CONTENT_LENGTH]: String(headerLength),
    });
  });

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: err.message }, err instanceof HTTPException ? err.status : 500));
  return app;

  /** The response's JSON, and the binary data of its binary outputs in their order. */
  async function infer(body: SplitBody): Promise<Result<{ json: unknown; chunks: Buffer[] }>> {
    const request = await parseInferRequest(body, { spec, classes, maxBatch });
    if (!request.ok) return request;
    const { id, outputs, tensors } = request.value;
    const logits = collect(await model.infer(tensors), tensors.length);
    if (!logits.ok) return logits;
    const chunks: Buffer[] = [];
    const json = {
      model_name: spec.id,
      model_version: MODEL_VERSION,
      ...(id !== undefined && { id }),
      outputs: outputs.map((o) => {
        const { data, bytes, ...tensor } = respond(o, logits.value);
        if (!o.binary) return { ...tensor, data: data() };
        chunks.push(bytes());
        return { ...tensor, parameters: { binary_data_size: chunks.at(-1)!.length } };
      }),
    };
    return { ok: true, value: { json, chunks } };
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

  /** One output tensor; its data as JSON values or as binary data, built on demand (one of the two). */
  function respond(output: OutputRequest, logits: Float32Array[]) {
    const n = logits.length;
    const k = output.classification;
    if (k === undefined) {
      return {
        name: output.name,
        datatype: 'FP32',
        shape: [n, classes],
        data: () => {
          const data = new Array<number>(n * classes);
          logits.forEach((l, i) => {
            for (let c = 0; c < classes; c++) data[i * classes + c] = l[c]!;
          });
          return data;
        },
        bytes: () => float32ToBytes(logits),
      };
    }
    // Triton's format: "<value>:<index>", value as C++ std::to_string prints a float (6 decimals).
    const data = logits.flatMap((l) => topK(l, k).map(({ index, p }) => `${p.toFixed(6)}:${index}`));
    return {
      name: output.name,
      datatype: 'BYTES',
      shape: [n, k],
      data: () => data,
      bytes: () => encodeBytesElements(data.map((d) => Buffer.from(d, 'utf8'))),
    };
  }
}
