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
