import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import {
  EdgeConfigSchema,
  encodeFrame,
  GatewayConfigSchema,
  ModelLoadError,
  PROTOCOL_VERSION,
  resolveModel,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { datasetDir, haveRealModels, modelsDir, testLogger } from '../support/env.ts';

const TOKEN = 'bad-input-token-42';
const SAMPLE = ['n01440764_tench.jpg', 'n01443537_goldfish.jpg', 'n01484850_great_white_shark.jpg'];

async function framesDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-frames-'));
  const good = await readFile(path.join(datasetDir, SAMPLE[0]!));
  await copyFile(path.join(datasetDir, SAMPLE[0]!), path.join(dir, 'a-good.jpg'));
  await writeFile(path.join(dir, 'b-truncated.jpg'), good.subarray(0, Math.floor(good.length / 3)));
  await writeFile(path.join(dir, 'c-not-an-image.jpg'), 'this is text, not a JPEG');
  await copyFile(path.join(datasetDir, SAMPLE[1]!), path.join(dir, 'd-good.jpg'));
  await copyFile(path.join(datasetDir, SAMPLE[2]!), path.join(dir, 'e-good.jpg'));
  return dir;
}

describe.skipIf(!haveRealModels)('bad input: a clear error, and the agent goes on', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-1', token: TOKEN }],
        maxPayloadBytes: 256 * 1024,
      }),
      logger: testLogger,
    });
  });
  afterAll(() => gateway?.close());

  const edgeConfig = (dir: string, token: string, limit?: number) =>
    EdgeConfigSchema.parse({
      deviceId: 'cam-1',
      token,
      gatewayUrl: gateway.edgeUrl,
      modelsDir,
      // Threshold 1 offloads every frame.
      policy: { kind: 'threshold', measure: 'maxProb', threshold: 1 },
      source: { dir, limit },
    });

  it('records an unreadable image as a failed frame and classifies the next ones', async () => {
    const records: FrameRecord[] = [];
    await using runtime = await createEdgeRuntime({
      config: edgeConfig(await framesDir(), TOKEN),
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    await runtime.run();
    const byFile = Object.fromEntries(records.map((r) => [r.file, r]));
    expect(records).toHaveLength(5);
    for (const bad of ['b-truncated.jpg', 'c-not-an-image.jpg']) {
      expect(byFile[bad]!.error?.code).toBe('IMAGE_UNDECODABLE');
      expect(byFile[bad]!.error?.message).toMatch(/cannot decode image/);
      expect(byFile[bad]!.final).toBeNull();
      expect(byFile[bad]!.bytesSent).toBe(0);
    }
    for (const good of ['a-good.jpg', 'd-good.jpg', 'e-good.jpg']) {
      expect(byFile[good]!.error).toBeNull();
      expect(byFile[good]!.final?.source).toBe('cloud'); // threshold 1 offloads everything
    }
  });

  it('a wrong token is refused with AUTH_FAILED; every frame keeps its local answer', async () => {
    const records: FrameRecord[] = [];
    await using runtime = await createEdgeRuntime({
      config: edgeConfig(datasetDir, 'not-the-token', 6),
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    expect(runtime.link?.state).toBe('refused');
    expect(runtime.link?.lastError).toMatch(/AUTH_FAILED/);
    await runtime.run();
    expect(records).toHaveLength(6);
    for (const r of records) {
      expect(r.decision.kind).toBe('offload');
      expect(r.cloud).toMatchObject({ status: 'unavailable' });
      expect(r.final).toMatchObject({ index: r.local!.index, source: 'local' });
    }
  });

  it('a missing, truncated or corrupted model file fails with a named error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-models-'));
    await expect(resolveModel('squeezenet1.1', dir)).rejects.toMatchObject({
      name: 'ModelLoadError',
      code: 'MODEL_MISSING',
      message: expect.stringMatching(/squeezenet1\.1\.onnx not found.*models:fetch.*SQUEEZEGATE_MODELS_DIR/),
    });
    const bytes = await readFile(path.join(modelsDir, 'squeezenet1.1.onnx'));
    await writeFile(path.join(dir, 'squeezenet1.1.onnx'), bytes.subarray(0, 1000));
    await expect(resolveModel('squeezenet1.1', dir)).rejects.toMatchObject({ code: 'MODEL_SIZE_MISMATCH' });
    const corrupted = Buffer.from(bytes);
    corrupted[corrupted.length >> 1]! ^= 0xff;
    await writeFile(path.join(dir, 'squeezenet1.1.onnx'), corrupted);
    const err = await resolveModel('squeezenet1.1', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).code).toBe('MODEL_CHECKSUM_MISMATCH');
    expect((err as ModelLoadError).message).toContain(path.join(dir, 'squeezenet1.1.onnx'));
  });

  describe('gateway socket', () => {
    const connect = async () => {
      const ws = new WebSocket(gateway.edgeUrl);
      const messages: Record<string, unknown>[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      return { ws, messages, closed };
    };
    const hello = (token = TOKEN) =>
      JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, deviceId: 'cam-1', token });
    /** Polls for a state with a generous deadline (not a measure); the caller checks what came. */
    const until = async (cond: () => boolean) => {
      const deadline = performance.now() + 60_000;
      while (!cond() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };

    it('answers an undecodable image with an error for that frame and stays up', async () => {
      const { ws, messages } = await connect();
      ws.send(hello());
      await until(() => messages.length === 1);
      expect(messages[0]).toMatchObject({ type: 'welcome', cloudModel: 'mobilenetv2-12-int8' });
      const header = { type: 'frame', frameId: 'f-bad', seq: 0, view: 'crop', mime: 'image/jpeg' } as const;
      ws.send(encodeFrame(header, Buffer.from('garbage, not jpeg')));
      const good = await readFile(path.join(datasetDir, SAMPLE[0]!));
      ws.send(encodeFrame({ ...header, frameId: 'f-good', view: 'full' }, good));
      await until(() => messages.length === 3);
      expect(messages[1]).toMatchObject({ type: 'error', code: 'IMAGE_UNDECODABLE', frameId: 'f-bad' });
      expect(messages[2]).toMatchObject({ type: 'result', frameId: 'f-good' });
      expect((messages[2] as { top: unknown[] }).top[0]).toMatchObject({ index: 0, label: 'tench' });
      ws.close();
    });

    it('refuses a malformed hello with 1008 and the validation message', async () => {
      const { ws, messages, closed } = await connect();
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, deviceId: 'cam 1!', token: 'x' }));
      expect(await closed).toBe(1008);
      expect(messages[0]).toMatchObject({
        type: 'error',
        code: 'BAD_MESSAGE',
        message: expect.stringMatching(/deviceId/),
      });
    });

    it('closes with 1008 even when the validation message is long and not ASCII', async () => {
      // zod's messages use "✖" and "→" (3 bytes each): the close reason must still fit 123 bytes.
      const { ws, messages, closed } = await connect();
      ws.send(JSON.stringify({ type: 'hello', protocol: 'one', deviceId: 7, token: 8, a: 1, b: 2, c: 3 }));
      expect(await closed).toBe(1008);
      expect(messages[0]).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
      expect((messages[0] as { message: string }).message.length).toBeGreaterThan(123);
    });

    it('refuses a wrong token with AUTH_FAILED and 1008', async () => {
      const { ws, messages, closed } = await connect();
      ws.send(hello('wrong-token-123'));
      expect(await closed).toBe(1008);
      expect(messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    });

    it('closes with 1009 on an oversized payload', async () => {
      const { ws, closed } = await connect();
      ws.send(hello());
      ws.send(Buffer.alloc(300 * 1024));
      expect(await closed).toBe(1009);
    });

    it('keeps serving after all of that', async () => {
      const res = await fetch(`${gateway.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ready', model: 'mobilenetv2-12-int8' });
    });
  });
});
