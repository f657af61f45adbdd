import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createEdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import {
  EdgeConfigSchema,
  encodeFrame,
  GatewayConfigSchema,
  getModelSpec,
  toModelView,
  toTensorData,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const GATEWAY_BIN = path.join(repoRoot, 'packages/gateway/dist/main.js');
const MODEL = 'mobilenetv2-12-int8';
const TENCH = path.join(datasetDir, 'n01440764_tench.jpg');
const argmax = (xs: readonly number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

async function runEdge(gateway: Gateway, options: { limit: number; maxInFlight?: number; token: string }) {
  const records: FrameRecord[] = [];
  await using runtime = await createEdgeRuntime({
    config: EdgeConfigSchema.parse({
      deviceId: 'cam-1',
      token: options.token,
      gatewayUrl: gateway.edgeUrl,
      modelsDir,
      policy: { kind: 'always' },
      maxInFlight: options.maxInFlight ?? 8,
      deadlineMs: 20_000,
      source: { dir: datasetDir, limit: options.limit },
    }),
    logger: testLogger,
    onRecord: (r) => records.push(r),
  });
  await runtime.run();
  return records.sort((a, b) => a.seq - b.seq);
}

/** One raw device sending `n` copies of a frame at once; resolves with every answer. */
async function blast(gateway: Gateway, n: number, token: string) {
  const tench = await readFile(TENCH);
  const ws = new WebSocket(gateway.edgeUrl);
  const opened = once(ws, 'open');
  const answers: { type: string; code?: string; frameId?: string }[] = [];
  const done = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'welcome') {
        for (let i = 0; i < n; i++) {
          ws.send(
            encodeFrame({ type: 'frame', frameId: `f${i}`, seq: i, view: 'full', mime: 'image/jpeg' }, tench),
          );
        }
        return;
      }
      answers.push(msg);
      if (answers.length === n) resolve();
    });
  });
  await opened;
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, deviceId: 'cam-1', token }));
  await done;
  ws.close();
  return answers;
}

describe.skipIf(!haveRealModels)('gateway at scale: batching, Open Inference Protocol v2, overload', () => {
  const TOKEN = 'scale-token-123';
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-1', token: TOKEN }],
        maxBatch: 8,
      }),
      logger: testLogger,
    });
  });
  afterAll(() => gateway?.close());

  it('answers a v2 infer request with a BYTES image, as the specification lays it out', async () => {
    const body = {
      id: 'req-1',
      inputs: [
        {
          name: 'input',
          shape: [1],
          datatype: 'BYTES',
          data: [(await readFile(TENCH)).toString('base64')],
        },
      ],
      outputs: [{ name: 'output' }],
    };
    const res = await fetch(`${gateway.url}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: a response body checked field by field below
    const json: any = await res.json();
    expect(json).toMatchObject({
      model_name: MODEL,
      id: 'req-1',
      outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 1000] }],
    });
    expect(argmax(json.outputs[0].data)).toBe(0); // tench
  });

  it('answers an FP32 tensor request the same way, and the classification extension', async () => {
    const spec = getModelSpec(MODEL)!;
    const view = await toModelView(await readFile(TENCH), { preprocess: spec.preprocess });
    const tensor = Array.from(toTensorData(view.pixels, spec.preprocess));
    const res = await fetch(`${gateway.url}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: tensor }],
        outputs: [{ name: 'output', parameters: { classification: 3 } }],
      }),
    });
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: a response body checked field by field below
    const json: any = await res.json();
    expect(json.outputs[0]).toMatchObject({ datatype: 'BYTES', shape: [1, 3] });
    expect(json.outputs[0].data[0]).toMatch(/^-?[0-9.]+:0$/);
    // biome-ignore lint/suspicious/noExplicitAny: checked field by field
    const meta: any = await (await fetch(`${gateway.url}/v2/models/${MODEL}`)).json();
    expect(meta.inputs[0]).toMatchObject({ name: 'input', datatype: 'FP32', shape: [-1, 3, 224, 224] });
    expect((await fetch(`${gateway.url}/v2/models/${MODEL}/ready`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/v2/health/live`)).status).toBe(200);
    const bad = await fetch(`${gateway.url}/v2/models/nope/infer`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toHaveProperty('error');
  });

  it('answers every frame of an edge that offloads everything', async () => {
    const records = await runEdge(gateway, { limit: 32, maxInFlight: 16, token: TOKEN });
    expect(records).toHaveLength(32);
    expect(records.every((r) => r.cloud?.status === 'ok' && r.final?.source === 'cloud')).toBe(true);
  });

  it('batches frames that arrive together: batches larger than one, every frame its own answer', async () => {
    // Frames wait up to 500 ms for companions, so the 40 frames sent at once form batches whatever
    // this machine's speed (with the default 2 ms they form only when frames queue behind a busy
    // model, which depends on how fast it decodes and infers).
    await using batching = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-1', token: TOKEN }],
        maxBatch: 8,
        maxQueueDelayMs: 500,
      }),
      logger: testLogger,
    });
    const answers = await blast(batching, 40, TOKEN);
    expect(answers.filter((a) => a.type === 'result')).toHaveLength(40);
    expect(new Set(answers.map((a) => a.frameId)).size).toBe(40);
    const { items, batches } = batching.batching();
    expect(items).toBe(40);
    expect(items / batches).toBeGreaterThan(1.5);
  });

  it('sheds explicitly at overload: every frame gets a result or busy, none lost', async () => {
    await using small = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-1', token: TOKEN }],
        maxBatch: 2,
        maxQueue: 2,
      }),
      logger: testLogger,
    });
    // A device blasting 60 frames at once: far more than a queue of 2 can hold.
    const answers = await blast(small, 60, TOKEN);
    expect(new Set(answers.map((a) => a.frameId)).size).toBe(60);
    const busy = answers.filter((a) => a.type === 'error' && a.code === 'BUSY').length;
    const ok = answers.filter((a) => a.type === 'result').length;
    expect(ok + busy).toBe(60);
    expect(busy).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(2);
    // Shed by the batcher, or refused for the device's share of the queue (limits/fair-share.ts):
    // every BUSY answered is counted, once.
    const metrics = await (await fetch(`${small.url}/metrics`)).text();
    const counted = Number(/^squeezegate_frames_total\{outcome="BUSY"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(counted).toBe(busy);
    expect(small.batching().busy).toBeLessThanOrEqual(busy);
  });

  describe('remote backend: a second gateway process acting as the v2 server', () => {
    let server: ChildProcess;
    let remoteUrl: string;
    beforeAll(async () => {
      server = spawn(process.execPath, [GATEWAY_BIN, '--port', '0'], {
        cwd: repoRoot,
        env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir },
      });
      for await (const line of createInterface({ input: server.stdout! })) {
        const log = JSON.parse(line);
        if (log.msg === 'gateway listening') {
          remoteUrl = `http://127.0.0.1:${log.port}`;
          break;
        }
      }
    });
    afterAll(async () => {
      server?.kill('SIGTERM');
      if (server) await once(server, 'exit');
    });

    it('classifies edge frames through the remote server exactly as locally', async () => {
      await using front = await createGateway({
        config: GatewayConfigSchema.parse({
          port: 0,
          modelsDir,
          devices: [{ id: 'cam-1', token: TOKEN }],
          remote: { url: remoteUrl },
        }),
        logger: testLogger,
      });
      const remote = await runEdge(front, { limit: 8, token: TOKEN });
      const local = await runEdge(gateway, { limit: 8, token: TOKEN });
      expect(remote.map((r) => r.cloud?.status)).toEqual(Array(8).fill('ok'));
      expect(remote.map((r) => r.final?.index)).toEqual(local.map((r) => r.final?.index));
    });

    it('fails to start with a clear error when the remote server is not there', async () => {
      await expect(
        createGateway({
          config: GatewayConfigSchema.parse({
            port: 0,
            modelsDir,
            devices: [],
            remote: { url: 'http://127.0.0.1:9', timeoutMs: 2000 },
          }),
          logger: testLogger,
        }),
      ).rejects.toMatchObject({
        name: 'RemoteBackendError',
        message: expect.stringContaining('127.0.0.1:9'),
      });
    });
  });
});
