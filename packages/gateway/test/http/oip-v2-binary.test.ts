import {
  createOipRoutes,
  decodeBytesElements,
  float32ToBytes,
  joinBody,
  type OipModel,
  splitBody,
} from '@squeezegate/gateway';
import { encodeJpeg, getModelSpec } from '@squeezegate/shared';
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

// Triton's binary tensor data extension on the /v2 routes: requests and responses as JSON, then
// tensor bytes, framed by Inference-Header-Content-Length.

const SPEC = getModelSpec('mobilenetv2-12-int8')!;
const S = SPEC.preprocess.centerCrop;
const PLANE = 3 * S * S;
const INFER = `/models/${SPEC.id}/infer`;
const HEADER = 'inference-header-content-length';

/** logit[c] = mean(input) + c·0.001, so the answer proves what went in. */
function fakeLogits(x: Float32Array): Float32Array {
  let sum = 0;
  for (const v of x) sum += v;
  return Float32Array.from({ length: 1000 }, (_, c) => sum / x.length + c * 0.001);
}

function fakeModel() {
  const seen: Float32Array[][] = [];
  const model: OipModel = {
    spec: SPEC,
    ready: () => true,
    async infer(inputs) {
      seen.push(inputs);
      return inputs.map((x) => ({
        kind: 'ok',
        logits: fakeLogits(x),
        batchSize: inputs.length,
        queueMs: 0,
        inferMs: 1,
      }));
    },
  };
  return { model, seen };
}

/** Values of every sign and magnitude, so a byte-order or offset slip shows. */
function tensor(seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: PLANE }, () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 5;
  });
}

const fp32Header = (n: number, size: number, extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'input', shape: [n, 3, S, S], datatype: 'FP32', parameters: { binary_data_size: size } }],
  ...extra,
});

function postBinary(app: Hono, json: unknown, chunks: Uint8Array[], headerLength?: string) {
  const { body, headerLength: length } = joinBody(json, chunks);
  return app.request(INFER, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', [HEADER]: headerLength ?? String(length) },
    body,
  });
}

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size: number };
}
/** A response cut as the extension says: its JSON and the bytes after it. */
async function readBinary(res: Response) {
  const split = splitBody(Buffer.from(await res.arrayBuffer()), res.headers.get(HEADER));
  if (!split.ok) throw new Error(split.error);
  return {
    json: JSON.parse(split.value.json) as { outputs: Output[]; error?: string },
    binary: split.value.binary,
  };
}
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('OIP v2 binary tensor data extension', () => {
  it('takes FP32 as binary data and answers binary logits when asked', async () => {
    const { model, seen } = fakeModel();
    const app = createOipRoutes(model);
    const inputs = [tensor(1), tensor(2)];
    const res = await postBinary(
      app,
      fp32Header(2, 2 * PLANE * 4, {
        id: 'b-1',
        outputs: [{ name: 'output', parameters: { binary_data: true } }],
      }),
      [float32ToBytes(inputs)],
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const { json, binary } = await readBinary(res);
    expect(json).toEqual({
      model_name: SPEC.id,
      model_version: '1',
      id: 'b-1',
      outputs: [
        { name: 'output', datatype: 'FP32', shape: [2, 1000], parameters: { binary_data_size: 8000 } },
      ],
    });
    expect(binary.length).toBe(8000);
    // The model saw exactly the floats sent, and its logits came back bit for bit.
    expect(seen[0]!.map((x, i) => x.every((v, j) => v === inputs[i]![j]))).toEqual([true, true]);
    const logits = new Float32Array(new Uint8Array(binary).buffer);
    expect([...logits.subarray(1000, 1003)]).toEqual([...fakeLogits(inputs[1]!).subarray(0, 3)]);
  });

  it('answers JSON unless asked; binary_data_output for all, binary_data per output overriding it', async () => {
    const app = createOipRoutes(fakeModel().model);
    const bytes = [float32ToBytes([tensor(3)])];
    const plain = await postBinary(app, fp32Header(1, PLANE * 4), bytes);
    expect(plain.status).toBe(200);
    expect(plain.headers.get(HEADER)).toBeNull();
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await plain.json()) as { outputs: Output[] }).outputs[0]!.data).toHaveLength(1000);

    const all = await postBinary(
      app,
      fp32Header(1, PLANE * 4, { parameters: { binary_data_output: true } }),
      bytes,
    );
    expect((await readBinary(all)).json.outputs[0]!.parameters).toEqual({ binary_data_size: 4000 });

    const overridden = await postBinary(
      app,
      fp32Header(1, PLANE * 4, {
        parameters: { binary_data_output: true },
        outputs: [{ name: 'output', parameters: { binary_data: false } }],
      }),
      bytes,
    );
    expect(overridden.headers.get(HEADER)).toBeNull();
    expect(((await overridden.json()) as { outputs: Output[] }).outputs[0]!.data).toHaveLength(1000);
  });

  it('answers the classification extension as binary BYTES elements', async () => {
    const app = createOipRoutes(fakeModel().model);
    const x = new Float32Array(PLANE).fill(0.5);
    const res = await postBinary(
      app,
      fp32Header(1, PLANE * 4, {
        outputs: [{ name: 'output', parameters: { classification: 2, binary_data: true } }],
      }),
      [float32ToBytes([x])],
    );
    const { json, binary } = await readBinary(res);
    expect(json.outputs[0]).toMatchObject({ datatype: 'BYTES', shape: [1, 2] });
    const items = decodeBytesElements(binary, 2);
    if (!items.ok) throw new Error(items.error);
    expect(items.value.map(String)).toEqual(['1.499000:999', '1.498000:998']);
  });

  it('takes BYTES images as raw length-prefixed bytes, as it takes them in base64', async () => {
    const { model, seen } = fakeModel();
    const app = createOipRoutes(model);
    const pixels = Buffer.alloc(64 * 64 * 3, 0);
    for (let i = 0; i < 64 * 64; i++) pixels.set([200, 40, 90], i * 3);
    const jpeg = await encodeJpeg({ pixels, size: 64 }, 95);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(jpeg.length);
    const items = Buffer.concat([length, jpeg]);
    const res = await postBinary(
      app,
      {
        inputs: [
          { name: 'input', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: items.length } },
        ],
      },
      [items],
    );
    expect(res.status).toBe(200);
    const json = await app.request(INFER, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'input', shape: [1], datatype: 'BYTES', data: [jpeg.toString('base64')] }],
      }),
    });
    expect(json.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]![0]!.every((v, i) => v === seen[1]![0]![i])).toBe(true);
  });

  it('still takes JSON, with or without the header', async () => {
    const app = createOipRoutes(fakeModel().model);
    const body = JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 3, S, S], datatype: 'FP32', data: new Array(PLANE).fill(1) }],
    });
    const res = await app.request(INFER, {
      method: 'POST',
      body,
      headers: { [HEADER]: String(Buffer.byteLength(body)) },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: Output[] }).outputs[0]!.data![0]).toBeCloseTo(1, 5);
  });

  describe('400 with what is wrong', () => {
    const app = createOipRoutes(fakeModel().model, { maxBodyBytes: 4 * PLANE * 4 });
    const one = float32ToBytes([tensor(9)]);

    it.each([
      [
        'a header that is not a byte count',
        () => postBinary(app, fp32Header(1, PLANE * 4), [one], '12x'),
        "Inference-Header-Content-Length must be a byte count, got '12x'",
      ],
      [
        'a header longer than the body',
        () => postBinary(app, fp32Header(1, PLANE * 4), [one], String(PLANE * 8)),
        `Inference-Header-Content-Length is ${PLANE * 8} but the body has only`,
      ],
      [
        'a header cutting the JSON short',
        () => postBinary(app, fp32Header(1, PLANE * 4), [one], '20'),
        'request body is not JSON (binary tensor data needs the Inference-Header-Content-Length header)',
      ],
      [
        'binary data without the header',
        () => app.request(INFER, { method: 'POST', body: joinBody(fp32Header(1, PLANE * 4), [one]).body }),
        'request body is not JSON',
      ],
      [
        'a truncated body',
        () => postBinary(app, fp32Header(1, PLANE * 4), [one.subarray(0, 1000)]),
        `binary data is truncated: tensor 'input' announces ${PLANE * 4} bytes (binary_data_size) but only 1000 follow the JSON`,
      ],
      [
        'bytes beyond the tensors',
        () => postBinary(app, fp32Header(1, PLANE * 4), [one, Buffer.from([1, 2, 3])]),
        `3 bytes follow the JSON beyond the ${PLANE * 4} its tensors announce`,
      ],
      [
        'a size that does not match the shape',
        () => postBinary(app, fp32Header(2, PLANE * 4), [one]),
        `inputs.0: binary_data_size ${PLANE * 4} does not match FP32 [2,3,${S},${S}], which takes ${2 * PLANE * 4} bytes`,
      ],
      [
        'a size that is not a byte count',
        () =>
          postBinary(
            app,
            {
              inputs: [
                {
                  name: 'input',
                  shape: [1, 3, S, S],
                  datatype: 'FP32',
                  parameters: { binary_data_size: '602112' },
                },
              ],
            },
            [one],
          ),
        'inputs.0.parameters.binary_data_size must be a byte count',
      ],
      [
        'both data and a binary size',
        () =>
          postBinary(
            app,
            {
              inputs: [
                {
                  name: 'input',
                  shape: [1, 3, S, S],
                  datatype: 'FP32',
                  data: [],
                  parameters: { binary_data_size: PLANE * 4 },
                },
              ],
            },
            [one],
          ),
        'inputs.0: give data or parameters.binary_data_size, not both',
      ],
      [
        'neither data nor a binary size',
        () => postBinary(app, { inputs: [{ name: 'input', shape: [1, 3, S, S], datatype: 'FP32' }] }, []),
        'inputs.0: data is missing (or parameters.binary_data_size, for binary data)',
      ],
      [
        'a binary_data that is not a boolean',
        () =>
          postBinary(
            app,
            fp32Header(1, PLANE * 4, { outputs: [{ name: 'output', parameters: { binary_data: 'yes' } }] }),
            [one],
          ),
        'outputs.0.parameters.binary_data must be a boolean',
      ],
      [
        'a binary_data_output that is not a boolean',
        () => postBinary(app, fp32Header(1, PLANE * 4, { parameters: { binary_data_output: 1 } }), [one]),
        'parameters.binary_data_output must be a boolean',
      ],
      [
        'BYTES elements that do not add up',
        () =>
          postBinary(
            app,
            {
              inputs: [{ name: 'input', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 8 } }],
            },
            [Buffer.from([4, 0, 0, 0, 1, 2, 3, 4])],
          ),
        'inputs.0: binary data holds 1 BYTES elements, the shape needs 2',
      ],
    ])('%s', async (_what, send, message) => {
      const res = await send();
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toContain(message);
    });

    it('413 past the body limit, binary or not', async () => {
      const res = await postBinary(app, fp32Header(5, 5 * PLANE * 4), [
        float32ToBytes(Array.from({ length: 5 }, () => tensor(1))),
      ]);
      expect(res.status).toBe(413);
      expect(await errorOf(res)).toBe(`request body exceeds ${4 * PLANE * 4} bytes`);
      const ok = await postBinary(app, fp32Header(3, 3 * PLANE * 4), [
        float32ToBytes(Array.from({ length: 3 }, () => tensor(2))),
      ]);
      expect(ok.status).toBe(200);
    });
  });
});
