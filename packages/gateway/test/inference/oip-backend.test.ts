import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import {
  createOipBackend,
  createOipRoutes,
  type InferOutcome,
  type OipModel,
  RemoteBackendError,
  RemoteBackendErrorCode,
} from '@squeezegate/gateway';
import { getModelSpec, type ModelSpec } from '@squeezegate/shared';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';

const SPEC = getModelSpec('mobilenetv2-12-int8')!;
const S = SPEC.preprocess.centerCrop;
const PLANE = 3 * S * S;
const IHCL = 'inference-header-content-length';

function fakeLogits(x: Float32Array): Float32Array {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  return Float32Array.from({ length: 1000 }, (_, c) => mean + c * 0.001);
}

function fakeModel(options: { spec?: ModelSpec; ready?: boolean; outcome?: () => InferOutcome } = {}) {
  const seen: Float32Array[][] = [];
  const model: OipModel = {
    spec: options.spec ?? SPEC,
    ready: () => options.ready ?? true,
    async infer(inputs) {
      seen.push(inputs);
      return inputs.map(
        (x) =>
          options.outcome?.() ?? {
            kind: 'ok',
            logits: fakeLogits(x),
            batchSize: inputs.length,
            queueMs: 0,
            inferMs: 1,
          },
      );
    },
  };
  return { model, seen };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

/** A real HTTP server on an ephemeral port. */
async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const serveV2 = (model: OipModel, app = new Hono()) =>
  listen(createAdaptorServer({ fetch: app.route('/v2', createOipRoutes(model)).fetch }) as Server);

/** Deterministic values of every sign and magnitude, so the float round trip is really exercised. */
function tensor(seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: PLANE }, () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 5;
  });
}

/** -1 when equal in length and every value; toEqual on 150k-element typed arrays takes ~0.3 s each. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((v, i) => v !== b[i]);
}

async function rejection(promise: Promise<unknown>): Promise<RemoteBackendError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteBackendError);
  return err as RemoteBackendError;
}

describe('createOipBackend', () => {
  it('runs a batch on a remote v2 server and returns its logits', async () => {
    const { model, seen } = fakeModel();
    const url = await serveV2(model);
    // A trailing slash on the base URL is fine.
    const backend = await createOipBackend({ url: `${url}/`, model: SPEC.id, spec: SPEC, concurrency: 3 });
    try {
      expect(backend.spec).toBe(SPEC);
      expect(backend.concurrency).toBe(3);
      const inputs = [tensor(1), tensor(2), tensor(3)];
      const out = await backend.run(inputs);
      expect(out).toHaveLength(3);
      // The server saw exactly the tensors sent (float32 survives JSON), and its logits came back exactly.
      expect(seen).toHaveLength(1);
      seen[0]!.forEach((x, i) => {
        expect(firstDifference(x, inputs[i]!)).toBe(-1);
      });
      out.forEach((logits, i) => {
        expect(firstDifference(logits, fakeLogits(inputs[i]!))).toBe(-1);
      });
      expect(out[0]![0]).not.toBe(out[1]![0]);
      expect(await backend.run([])).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('sends binary tensor data by default and plain JSON when told, with the same answers', async () => {
    const { model } = fakeModel();
    const wire: {
      path: string;
      type?: string | undefined;
      header?: string | undefined;
      bytes: number;
      answered?: string;
    }[] = [];
    const spy = new Hono();
    spy.use('*', async (c, next) => {
      const bytes = (await c.req.raw.clone().arrayBuffer()).byteLength;
      const entry = {
        path: c.req.path,
        bytes,
        ...(c.req.header('content-type') && { type: c.req.header('content-type') }),
        ...(c.req.header(IHCL) && { header: c.req.header(IHCL) }),
      };
      await next();
      wire.push({ ...entry, ...(c.res.headers.get(IHCL) && { answered: c.res.headers.get(IHCL)! }) });
    });
    const url = await serveV2(model, spy);
    const inputs = [tensor(4), tensor(5)];
    const answers: Float32Array[][] = [];
    for (const binary of [true, false]) {
      await using backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC, binary });
      answers.push(await backend.run(inputs));
    }
    const infers = wire.filter((w) => w.path.endsWith('/infer'));
    expect(infers).toHaveLength(2);
    const [bin, json] = infers as [(typeof infers)[0], (typeof infers)[0]];
    expect(bin.type).toBe('application/octet-stream');
    // The JSON part, then exactly 4 bytes per float; the logits came back binary too.
    expect(bin.bytes - Number(bin.header)).toBe(2 * PLANE * 4);
    expect(Number(bin.header)).toBeLessThan(400);
    expect(bin.answered).toMatch(/^\d+$/);
    expect(json.type).toBe('application/json');
    expect(json.header).toBeUndefined();
    expect(json.answered).toBeUndefined();
    // Decimal floats cost several times the bytes.
    expect(json.bytes).toBeGreaterThan(3 * bin.bytes);
    answers[0]!.forEach((logits, i) => {
      expect(firstDifference(logits, fakeLogits(inputs[i]!))).toBe(-1);
      expect(firstDifference(logits, answers[1]![i]!)).toBe(-1);
    });
  });

  it('sends its headers with every request, and says so when the server refuses them', async () => {
    const { model } = fakeModel();
    const seen: string[] = [];
    const guard = new Hono();
    guard.use('*', async (c, next) => {
      const auth = c.req.header('authorization') ?? '(none)';
      seen.push(`${c.req.method} ${c.req.path} ${auth} ${c.req.header('x-tenant') ?? ''}`.trim());
      if (auth !== 'Bearer right-token') return c.json({ error: 'the admin token is wrong' }, 401);
      return next();
    });
    const url = await serveV2(model, guard);
    const headers = { Authorization: 'Bearer right-token', 'X-Tenant': 'north' };
    await using backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC, headers });
    expect(await backend.run([tensor(6)])).toHaveLength(1);
    const base = `/v2/models/${SPEC.id}`;
    expect(seen).toEqual([
      `GET ${base}/ready Bearer right-token north`,
      `GET ${base} Bearer right-token north`,
      `POST ${base}/infer Bearer right-token north`,
    ]);

    const err = await rejection(
      createOipBackend({ url, model: SPEC.id, spec: SPEC, headers: { Authorization: 'Bearer wrong' } }),
    );
    expect(err.code).toBe(RemoteBackendErrorCode.UNAUTHORIZED);
    expect(err.message).toBe(
      `${url}${base}/ready answered HTTP 401: the admin token is wrong; check the headers sent to it (remote.headers, --remote-header)`,
    );
  });

  it('refuses a binary answer that does not add up', async () => {
    const { model } = fakeModel();
    const liar = new Hono();
    // Announces 1000 logits as binary data but sends half of them.
    liar.post('/v2/models/:name/infer', (c) => {
      const head = JSON.stringify({
        model_name: SPEC.id,
        outputs: [
          { name: 'output', datatype: 'FP32', shape: [1, 1000], parameters: { binary_data_size: 4000 } },
        ],
      });
      return c.body(new Uint8Array(Buffer.concat([Buffer.from(head), Buffer.alloc(2000)])), 200, {
        'content-type': 'application/octet-stream',
        [IHCL]: String(Buffer.byteLength(head)),
      });
    });
    const url = await serveV2(model, liar);
    await using backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC });
    const err = await rejection(backend.run([tensor(7)]));
    expect(err.code).toBe(RemoteBackendErrorCode.BAD_RESPONSE);
    expect(err.message).toBe(
      `${url}/v2/models/${SPEC.id}/infer: binary data is truncated: tensor 'output' announces 4000 bytes (binary_data_size) but only 2000 follow the JSON`,
    );
  });

  it("throws the server's error text when inference fails", async () => {
    const { model } = fakeModel({ outcome: () => ({ kind: 'failed', message: 'boom' }) });
    const url = await serveV2(model);
    const backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC });
    const err = await rejection(backend.run([tensor(1)]));
    expect(err.code).toBe(RemoteBackendErrorCode.INFER_FAILED);
    expect(err.message).toBe(`${url}/v2/models/${SPEC.id}/infer answered HTTP 500: inference failed: boom`);
    await backend.close();
  });

  it('refuses a model that is not ready', async () => {
    const url = await serveV2(fakeModel({ ready: false }).model);
    const err = await rejection(createOipBackend({ url, model: SPEC.id, spec: SPEC }));
    expect(err.code).toBe(RemoteBackendErrorCode.NOT_READY);
    expect(err.message).toBe(`model '${SPEC.id}' at ${url} is not ready (HTTP 503)`);
  });

  it('refuses an unknown model', async () => {
    const url = await serveV2(fakeModel().model);
    const err = await rejection(createOipBackend({ url, model: 'resnet50', spec: SPEC }));
    expect(err.code).toBe(RemoteBackendErrorCode.MODEL_UNKNOWN);
    expect(err.message).toBe(
      `${url} has no model 'resnet50': unknown model 'resnet50'; this server has '${SPEC.id}'`,
    );
    expect(err.url).toBe(`${url}/v2/models/resnet50`);
  });

  it('refuses a model whose input size differs from the spec', async () => {
    const other: ModelSpec = { ...SPEC, preprocess: { ...SPEC.preprocess, centerCrop: 160 } };
    const url = await serveV2(fakeModel({ spec: other }).model);
    const err = await rejection(createOipBackend({ url, model: SPEC.id, spec: SPEC }));
    expect(err.code).toBe(RemoteBackendErrorCode.MODEL_MISMATCH);
    expect(err.message).toBe(
      `model '${SPEC.id}' at ${url} does not match ${SPEC.id}: it takes input FP32 [-1,3,160,160]; expected one FP32 input [-1,3,224,224]`,
    );
  });

  it('refuses a model with another number of classes', async () => {
    const other: ModelSpec = { ...SPEC, output: { ...SPEC.output, shape: ['N', 10] } };
    const url = await serveV2(fakeModel({ spec: other }).model);
    const err = await rejection(createOipBackend({ url, model: SPEC.id, spec: SPEC }));
    expect(err.code).toBe(RemoteBackendErrorCode.MODEL_MISMATCH);
    expect(err.message).toMatch(/output output is FP32 \[-1,10\]; expected FP32 \[-1,1000\]$/);
  });

  it('says so when nothing listens on the port', async () => {
    // A port that was free a moment ago and is closed now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await rejection(createOipBackend({ url, model: SPEC.id, spec: SPEC }));
    expect(err.code).toBe(RemoteBackendErrorCode.UNREACHABLE);
    expect(err.message).toBe(`cannot reach ${url}/v2/models/${SPEC.id}/ready: ECONNREFUSED`);
  });

  it('refuses a URL that is not http(s)', async () => {
    const err = await rejection(createOipBackend({ url: 'ftp://host', model: SPEC.id, spec: SPEC }));
    expect(err.code).toBe(RemoteBackendErrorCode.UNREACHABLE);
    expect(err.message).toBe(`'ftp://host' is not an http(s) URL`);
  });

  it('gives up on a server that never answers within the timeout', async () => {
    const url = await listen(createServer(() => {}));
    const started = performance.now();
    const err = await rejection(createOipBackend({ url, model: SPEC.id, spec: SPEC, timeoutMs: 200 }));
    const elapsed = performance.now() - started;
    expect(err.code).toBe(RemoteBackendErrorCode.TIMEOUT);
    expect(err.message).toBe(`${url}/v2/models/${SPEC.id}/ready did not answer within 200 ms`);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
  });

  it('times out an inference the server never answers', async () => {
    const hang = new Hono();
    hang.post('/v2/models/:name/infer', () => new Promise<Response>(() => {}));
    const url = await serveV2(fakeModel().model, hang);
    const backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC, timeoutMs: 300 });
    const started = performance.now();
    const err = await rejection(backend.run([tensor(1)]));
    expect(err.code).toBe(RemoteBackendErrorCode.TIMEOUT);
    expect(performance.now() - started).toBeLessThan(1500);
    await backend.close();
  });

  it('close() is idempotent, aborts what is in flight and refuses further work', async () => {
    const hang = new Hono();
    hang.post('/v2/models/:name/infer', () => new Promise<Response>(() => {}));
    const url = await serveV2(fakeModel().model, hang);
    const backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC, timeoutMs: 60_000 });
    const inFlight = rejection(backend.run([tensor(1)]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([backend.close(), backend.close()]);
    expect((await inFlight).code).toBe(RemoteBackendErrorCode.CLOSED);
    expect((await rejection(backend.run([tensor(2)]))).code).toBe(RemoteBackendErrorCode.CLOSED);
    await backend.close();
  });

  it("stops when the caller's signal aborts", async () => {
    const hang = new Hono();
    hang.post('/v2/models/:name/infer', () => new Promise<Response>(() => {}));
    const url = await serveV2(fakeModel().model, hang);
    const controller = new AbortController();
    const backend = await createOipBackend({ url, model: SPEC.id, spec: SPEC, signal: controller.signal });
    const inFlight = rejection(backend.run([tensor(1)]));
    controller.abort();
    expect((await inFlight).code).toBe(RemoteBackendErrorCode.ABORTED);
    await backend.close();
  });
});
