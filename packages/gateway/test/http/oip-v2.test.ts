import { createOipRoutes, type InferOutcome, type OipModel } from '@squeezegate/gateway';
import { encodeJpeg, getModelSpec, type ModelSpec } from '@squeezegate/shared';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

const SPEC = getModelSpec('mobilenetv2-12-int8')!;
const ID = SPEC.id;
const S = SPEC.preprocess.centerCrop;
const PLANE = 3 * S * S;
const INFER = `/models/${ID}/infer`;

/** Deterministic stand-in: logit[c] = mean(input) + c·0.001, so the answer proves what went in. */
function fakeLogits(x: Float32Array): Float32Array {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  return Float32Array.from({ length: 1000 }, (_, c) => mean + c * 0.001);
}

function fakeModel(options: { spec?: ModelSpec; outcome?: (x: Float32Array) => InferOutcome } = {}) {
  const seen: Float32Array[][] = [];
  const state = { ready: true };
  const model: OipModel = {
    spec: options.spec ?? SPEC,
    ready: () => state.ready,
    async infer(inputs) {
      seen.push(inputs);
      return inputs.map(
        (x) =>
          options.outcome?.(x) ?? {
            kind: 'ok',
            logits: fakeLogits(x),
            batchSize: inputs.length,
            queueMs: 0,
            inferMs: 1,
          },
      );
    },
  };
  return { model, seen, state };
}

const post = (app: Hono, body: unknown, path = INFER) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** What the routes answer: a v2 response or `{ error }`; tests read it as both. */
interface Answer {
  error: string;
  model_name: string;
  outputs: [Output, ...Output[]];
}
interface Output {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string)[];
}
const read = async (res: Response) => (await res.json()) as Answer;

/** One FP32 input as in the spec's examples: flat, row-major. */
const fp32 = (values: number[], extra: Record<string, unknown> = {}) => ({
  inputs: [
    {
      name: 'input',
      shape: [values.length, 3, S, S],
      datatype: 'FP32',
      data: values.flatMap((v) => new Array<number>(PLANE).fill(v)),
    },
  ],
  ...extra,
});

async function jpegBase64(rgb: [number, number, number], size: number): Promise<string> {
  const pixels = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) pixels.set(rgb, i * 3);
  return (await encodeJpeg({ pixels, size }, 95)).toString('base64');
}

describe('OIP v2 metadata and health', () => {
  const { model, state } = fakeModel();
  const app = createOipRoutes(model);

  it('describes the server', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    const body = await read(res);
    expect(body).toEqual({
      name: 'squeezegate',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      extensions: ['classification', 'binary_tensor_data'],
    });
  });

  it('describes the model, with and without a version', async () => {
    const expected = {
      name: ID,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 224, 224] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1000] }],
    };
    for (const path of [`/models/${ID}`, `/models/${ID}/versions/1`]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await read(res)).toEqual(expected);
    }
  });

  it('answers health with status codes and empty bodies', async () => {
    state.ready = true;
    for (const path of [
      '/health/live',
      '/health/ready',
      `/models/${ID}/ready`,
      `/models/${ID}/versions/1/ready`,
    ]) {
      const res = await app.request(path);
      expect([path, res.status, await res.text()]).toEqual([path, 200, '']);
    }
    state.ready = false;
    expect((await app.request('/health/live')).status).toBe(200);
    for (const path of ['/health/ready', `/models/${ID}/ready`, `/models/${ID}/versions/1/ready`]) {
      expect([path, (await app.request(path)).status]).toEqual([path, 503]);
    }
  });

  it('answers unknown models, versions and paths with a JSON 404', async () => {
    const cases: [string, RegExp][] = [
      ['/models/resnet50', /unknown model 'resnet50'; this server has 'mobilenetv2-12-int8'/],
      ['/models/resnet50/ready', /unknown model 'resnet50'/],
      [`/models/${ID}/versions/2`, /unknown version '2'/],
      [`/models/${ID}/versions/2/ready`, /unknown version '2'/],
      ['/nope', /no route GET \/nope/],
    ];
    for (const [path, error] of cases) {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect((await read(res)).error).toMatch(error);
    }
    const res = await post(app, fp32([0]), '/models/resnet50/infer');
    expect([res.status, (await read(res)).error]).toEqual([
      404,
      expect.stringMatching(/unknown model 'resnet50'/),
    ]);
  });

  it('works mounted at /v2', async () => {
    const outer = new Hono().route('/v2', createOipRoutes(fakeModel().model));
    expect((await outer.request(`/v2/models/${ID}`)).status).toBe(200);
    expect((await outer.request('/v2/health/ready')).status).toBe(200);
    const res = await post(outer, fp32([0.5]), `/v2/models/${ID}/versions/1/infer`);
    expect(res.status).toBe(200);
    expect((await read(res)).outputs[0].data[0]).toBe(0.5);
  });
});

describe('OIP v2 inference', () => {
  it('runs a flat FP32 batch and echoes the id', async () => {
    const { model, seen } = fakeModel();
    const res = await post(createOipRoutes(model), fp32([0.5, -1.25], { id: 'req-42' }));
    expect(res.status).toBe(200);
    const body = await read(res);
    expect(body).toMatchObject({ model_name: ID, model_version: '1', id: 'req-42' });
    expect(body.outputs).toHaveLength(1);
    const [out] = body.outputs;
    expect(out).toMatchObject({ name: 'output', datatype: 'FP32', shape: [2, 1000] });
    expect(out.data).toHaveLength(2000);
    expect(out.data[0]).toBe(0.5);
    expect(out.data[999]).toBe(Math.fround(0.5 + 0.999));
    expect(out.data[1000]).toBe(-1.25);
    expect(out.data[1000 + 7]).toBe(Math.fround(-1.25 + 0.007));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.map((x) => x.length)).toEqual([PLANE, PLANE]);
  });

  it('omits the id when none was given', async () => {
    const body = await read(await post(createOipRoutes(fakeModel().model), fp32([0])));
    expect(body).not.toHaveProperty('id');
  });

  it('takes nested (natural-shape) data in row-major order', async () => {
    const { model, seen } = fakeModel();
    const value = (n: number, c: number, y: number, x: number) =>
      Math.fround(n * 10 + c + y / 1000 + x / 1e6);
    const data = [0, 1].map((n) =>
      [0, 1, 2].map((c) =>
        Array.from({ length: S }, (_, y) => Array.from({ length: S }, (_, x) => value(n, c, y, x))),
      ),
    );
    const res = await post(createOipRoutes(model), {
      inputs: [{ name: 'input', shape: [2, 3, S, S], datatype: 'FP32', data }],
    });
    expect(res.status).toBe(200);
    const [a, b] = seen[0]!;
    for (const [c, y, x] of [
      [0, 0, 0],
      [0, 0, 223],
      [1, 5, 7],
      [2, 223, 223],
    ] as const) {
      const i = c * S * S + y * S + x;
      expect(a![i]).toBe(value(0, c, y, x));
      expect(b![i]).toBe(value(1, c, y, x));
    }
    const out = (await read(res)).outputs[0];
    expect(out.data[1000]).toBe(Array.from(fakeLogits(b!))[0]);
  });

  it('decodes and preprocesses base64 images (BYTES)', async () => {
    const { model, seen } = fakeModel();
    const app = createOipRoutes(model);
    const rgb: [number, number, number] = [200, 100, 50];
    const [big, small] = await Promise.all([jpegBase64(rgb, 256), jpegBase64(rgb, 100)]);
    // torchvision normalisation of the solid colour, channel by channel.
    const expected = rgb.map((v, c) => (v / 255 - SPEC.preprocess.mean[c]!) / SPEC.preprocess.std[c]!);
    for (const view of ['full', 'crop'] as const) {
      const res = await post(app, {
        inputs: [{ name: 'input', shape: [2], datatype: 'BYTES', parameters: { view }, data: [big, small] }],
      });
      expect(res.status).toBe(200);
      const out = (await read(res)).outputs[0];
      expect(out.shape).toEqual([2, 1000]);
      const tensors = seen.at(-1)!;
      expect(tensors).toHaveLength(2);
      for (const t of tensors) {
        expect(t).toHaveLength(PLANE);
        for (let c = 0; c < 3; c++) {
          const channel = t.subarray(c * S * S, (c + 1) * S * S);
          // JPEG moves a flat colour by a level or two: within 0.05 of the exact value everywhere.
          expect(Math.max(...channel.map((v) => Math.abs(v - expected[c]!)))).toBeLessThan(0.05);
        }
      }
      const mean = expected.reduce((a, b) => a + b) / 3;
      expect(out.data[0]).toBeCloseTo(mean, 1);
    }
  });

  it('answers top-k as "value:index" strings for the classification extension', async () => {
    const app = createOipRoutes(fakeModel().model);
    const res = await post(
      app,
      fp32([0.5, 0], { outputs: [{ name: 'output', parameters: { classification: 3 } }] }),
    );
    expect(res.status).toBe(200);
    const [out] = (await read(res)).outputs;
    expect(out).toEqual({
      name: 'output',
      datatype: 'BYTES',
      shape: [2, 3],
      data: ['1.499000:999', '1.498000:998', '1.497000:997', '0.999000:999', '0.998000:998', '0.997000:997'],
    });
    const clamped = await post(
      app,
      fp32([0], { outputs: [{ name: 'output', parameters: { classification: 5000 } }] }),
    );
    expect((await read(clamped)).outputs[0].shape).toEqual([1, 1000]);
    const plain = await post(app, fp32([0], { outputs: [{ name: 'output' }] }));
    expect((await read(plain)).outputs[0]).toMatchObject({ datatype: 'FP32', shape: [1, 1000] });
  });
});

describe('OIP v2 inference errors', () => {
  const input = (over: Record<string, unknown>) => ({
    inputs: [
      {
        name: 'input',
        shape: [1, 3, S, S],
        datatype: 'FP32',
        data: new Array<number>(PLANE).fill(0),
        ...over,
      },
    ],
  });
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{"inputs": [', /request body is not JSON/],
    ['no inputs', {}, /^inputs: /],
    ['inputs not an array', { inputs: 'x' }, /^inputs: .*array/],
    ['unknown field', { ...input({}), extra: 1 }, /extra/],
    ['data not an array', input({ data: 'abc' }), /inputs\.0\.data: data must be a JSON array/],
    ['not a v2 datatype', input({ datatype: 'FLOAT' }), /inputs\.0\.datatype/],
    ['negative dimension', input({ shape: [-1, 3, S, S] }), /inputs\.0\.shape\.0/],
    [
      'wrong input name',
      input({ name: 'data' }),
      /unknown input 'data'; model 'mobilenetv2-12-int8' takes 'input'/,
    ],
    ['unsupported datatype', input({ datatype: 'INT8' }), /datatype INT8 is not supported/],
    [
      'wrong spatial size',
      input({ shape: [1, 3, 32, 32] }),
      /FP32 shape must be \[N,3,224,224\], got \[1,3,32,32\]/,
    ],
    ['wrong rank', input({ shape: [3, S, S] }), /FP32 shape must be/],
    [
      'too few elements',
      input({ data: [1, 2, 3] }),
      /data has 3 elements but shape \[1,3,224,224\] needs 150528/,
    ],
    ['too many elements', input({ data: new Array<number>(PLANE + 1).fill(0) }), /150529 elements/],
    [
      'non-number element',
      input({ data: ['a', ...new Array<number>(PLANE - 1).fill(0)] }),
      /element 0 is not a number/,
    ],
    ['empty batch', input({ shape: [0, 3, S, S], data: [] }), /batch is empty/],
    ['too large a batch', input({ shape: [65, 3, S, S] }), /batch of 65 exceeds the limit of 64/],
    [
      'two inputs',
      { inputs: [input({}).inputs[0], input({}).inputs[0]] },
      /takes 1 input \('input'\), got 2/,
    ],
    ['unknown output', { ...input({}), outputs: [{ name: 'probs' }] }, /unknown output 'probs'/],
    [
      'bad classification count',
      { ...input({}), outputs: [{ name: 'output', parameters: { classification: 0 } }] },
      /classification must be a positive integer/,
    ],
    [
      'BYTES of wrong rank',
      input({ datatype: 'BYTES', shape: [1, 2], data: ['AA=='] }),
      /BYTES shape must be \[N\]/,
    ],
    [
      'BYTES count mismatch',
      input({ datatype: 'BYTES', shape: [2], data: ['AA=='] }),
      /1 images but shape \[2\] needs 2/,
    ],
    ['BYTES nested too deep', input({ datatype: 'BYTES', shape: [1], data: [['AA==']] }), /nested deeper/],
    [
      'BYTES not base64',
      input({ datatype: 'BYTES', shape: [1], data: ['not base64!'] }),
      /element 0 is not a base64 string/,
    ],
    ['BYTES number', input({ datatype: 'BYTES', shape: [1], data: [7] }), /element 0 is not a base64 string/],
    [
      'bad view',
      input({ datatype: 'BYTES', shape: [1], data: ['AA=='], parameters: { view: 'side' } }),
      /view must be 'full' or 'crop'/,
    ],
  ];

  it.each(cases)('400 for %s', async (_, body, error) => {
    const { model, seen } = fakeModel();
    const res = await post(createOipRoutes(model), body);
    expect(res.status).toBe(400);
    expect((await read(res)).error).toMatch(error);
    expect(seen).toHaveLength(0);
  });

  it('400 naming the image that does not decode', async () => {
    const { model, seen } = fakeModel();
    const good = await jpegBase64([10, 20, 30], 64);
    const res = await post(createOipRoutes(model), {
      inputs: [
        {
          name: 'input',
          shape: [2],
          datatype: 'BYTES',
          data: [good, Buffer.from('no image here').toString('base64')],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect((await read(res)).error).toMatch(/^inputs\.0: data element 1: cannot decode image/);
    expect(seen).toHaveLength(0);
  });

  it('honours maxBatch', async () => {
    const res = await post(createOipRoutes(fakeModel().model, { maxBatch: 2 }), fp32([0, 0, 0]));
    expect([res.status, (await read(res)).error]).toEqual([
      400,
      'inputs.0: batch of 3 exceeds the limit of 2',
    ]);
  });

  it('413 in the JSON error shape past the body limit', async () => {
    const { model, seen } = fakeModel();
    const res = await post(createOipRoutes(model, { maxBodyBytes: 100_000 }), fp32([0]));
    expect(res.status).toBe(413);
    expect(await read(res)).toEqual({ error: 'request body exceeds 100000 bytes' });
    expect(seen).toHaveLength(0);
  });

  it('503 when the model is not ready', async () => {
    const { model, state, seen } = fakeModel();
    state.ready = false;
    const res = await post(createOipRoutes(model), fp32([0]));
    expect([res.status, await res.json()]).toEqual([
      503,
      { error: "model 'mobilenetv2-12-int8' is not ready" },
    ]);
    expect(seen).toHaveLength(0);
  });

  it('503 "busy" when any item was shed', async () => {
    let i = 0;
    const { model } = fakeModel({
      outcome: (x) =>
        i++ === 1
          ? { kind: 'busy', queued: 7 }
          : { kind: 'ok', logits: fakeLogits(x), batchSize: 1, queueMs: 0, inferMs: 0 },
    });
    const res = await post(createOipRoutes(model), fp32([0, 0]));
    expect(res.status).toBe(503);
    expect((await read(res)).error).toBe('busy: 7 requests queued, try again later');
  });

  it('500 with the message when inference failed', async () => {
    const { model } = fakeModel({ outcome: () => ({ kind: 'failed', message: 'worker exited with 1' }) });
    const res = await post(createOipRoutes(model), fp32([0]));
    expect([res.status, await res.json()]).toEqual([
      500,
      { error: 'inference failed: worker exited with 1' },
    ]);
  });

  it('500 when the model answers with the wrong number of logits', async () => {
    const { model } = fakeModel({
      outcome: () => ({ kind: 'ok', logits: new Float32Array(10), batchSize: 1, queueMs: 0, inferMs: 0 }),
    });
    const res = await post(createOipRoutes(model), fp32([0]));
    expect([res.status, await res.json()]).toEqual([500, { error: 'model gave 10 logits, expected 1000' }]);
  });
});
