import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createEdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { EdgeConfigSchema } from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userEnv } from '../support/cli.ts';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

// Issue 13 §4: one squeezegate gateway (A) uses another (B) as its cloud tier over the Open
// Inference Protocol v2, tensors as binary data, with B's admin token in --remote-header.

const GATEWAY_BIN = path.join(repoRoot, 'packages/gateway/dist/main.js');
const B_ADMIN = 'b-admin-token-0123456789';
const DEVICE_TOKEN = 'cam-token-0123456789';
const PLANE_BYTES = 3 * 224 * 224 * 4;

interface Gateway {
  child: ChildProcess;
  port: number;
  /** Every log line so far. */
  lines: string[];
}

/** Starts dist/main.js; resolves once it listens, or with its exit code if it stops first. */
async function startGateway(args: string[]): Promise<Gateway | { exit: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [GATEWAY_BIN, '--port', '0', ...args], {
    cwd: repoRoot,
    env: userEnv(),
  });
  const lines: string[] = [];
  child.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
  return new Promise((resolve) => {
    // Kept reading after startup, so later lines are in `lines` too.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const log = JSON.parse(line) as { msg?: string; port?: number };
      if (log.msg === 'gateway listening') resolve({ child, port: log.port!, lines });
    });
    child.once('exit', (code) => resolve({ exit: code, lines }));
  });
}

async function stop(gateway: Gateway | undefined) {
  if (!gateway || gateway.child.exitCode !== null) return;
  const exited = once(gateway.child, 'exit');
  gateway.child.kill('SIGTERM');
  await exited;
}

/** A TCP proxy in front of B that counts the bytes each way; `target` can be moved to another B. */
async function countingProxy(target: { port: number }) {
  const counts = { up: 0, down: 0, head: '' };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const remote = connect(target.port, '127.0.0.1');
    sockets.add(client).add(remote);
    client.on('data', (d: Buffer) => {
      counts.up += d.length;
      // What headers looked like: enough of the start of each request to find them.
      if (counts.head.length < 1 << 16) counts.head += d.subarray(0, 512).toString('latin1');
    });
    remote.on('data', (d: Buffer) => {
      counts.down += d.length;
    });
    client.pipe(remote).pipe(client);
    for (const s of [client, remote]) {
      s.on('error', () => {
        client.destroy();
        remote.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    counts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function runEdge(gatewayPort: number, limit: number, deviceId = 'cam-1'): Promise<FrameRecord[]> {
  const records: FrameRecord[] = [];
  await using runtime = await createEdgeRuntime({
    config: EdgeConfigSchema.parse({
      deviceId,
      token: DEVICE_TOKEN,
      gatewayUrl: `ws://127.0.0.1:${gatewayPort}/v1/edge`,
      modelsDir,
      policy: { kind: 'always' },
      maxInFlight: 4,
      deadlineMs: 60_000,
      source: { dir: datasetDir, limit },
    }),
    logger: testLogger,
    onRecord: (r) => records.push(r),
  });
  await runtime.run();
  return records.sort((a, b) => a.seq - b.seq);
}

describe.skipIf(!haveRealModels)('a gateway as another gateway’s cloud tier', () => {
  let b: Gateway;
  let a: Gateway;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  const target = { port: 0 };

  beforeAll(async () => {
    const started = await startGateway(['--admin-token', B_ADMIN]);
    if (!('child' in started)) throw new Error(`gateway B did not start: ${started.lines.join('\n')}`);
    b = started;
    target.port = b.port;
    proxy = await countingProxy(target);
    const front = await startGateway([
      '--device',
      `cam-1:${DEVICE_TOKEN}`,
      '--device',
      `cam-2:${DEVICE_TOKEN}`,
      '--remote-url',
      `http://127.0.0.1:${proxy.port}`,
      '--remote-header',
      `Authorization: Bearer ${B_ADMIN}`,
      '--max-batch',
      '1',
    ]);
    if (!('child' in front)) throw new Error(`gateway A did not start: ${front.lines.join('\n')}`);
    a = front;
  }, 60_000);

  afterAll(async () => {
    await stop(a);
    await stop(b);
    await proxy?.close();
  });

  it('answers edge frames through B, with tensors as binary data on the wire', async () => {
    const before = { ...proxy.counts };
    const records = await runEdge(a.port, 6);
    expect(records).toHaveLength(6);
    expect(records.map((r) => r.cloud?.status)).toEqual(Array(6).fill('ok'));
    expect(records.every((r) => r.final?.source === 'cloud')).toBe(true);
    // One FP32 tensor per frame (batches of 1): 602,112 bytes of floats plus a small JSON part and
    // HTTP headers. As JSON the same floats take several times that.
    const perFrame = (proxy.counts.up - before.up) / 6;
    expect(perFrame).toBeGreaterThan(PLANE_BYTES);
    expect(perFrame).toBeLessThan(PLANE_BYTES + 4096);
    // The answers came back binary too: 4,000 bytes of logits a frame, not 1,000 decimals.
    expect((proxy.counts.down - before.down) / 6).toBeLessThan(4000 + 2048);
    expect(proxy.counts.head).toMatch(/inference-header-content-length: \d+/i);
    expect(proxy.counts.head).toMatch(/content-type: application\/octet-stream/i);
    expect(proxy.counts.head).toContain(`Bearer ${B_ADMIN}`);
  }, 120_000);

  it('serves its own /v2 API through B as well', async () => {
    const jpeg = await readFile(path.join(datasetDir, 'n01440764_tench.jpg'));
    const ask = async (port: number, headers: Record<string, string>) => {
      const res = await fetch(`http://127.0.0.1:${port}/v2/models/mobilenetv2-12-int8/infer`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          inputs: [{ name: 'input', shape: [1], datatype: 'BYTES', data: [jpeg.toString('base64')] }],
          outputs: [{ name: 'output', parameters: { classification: 1 } }],
        }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { outputs: [{ data: string[] }] }).outputs[0].data[0];
    };
    const viaA = await ask(a.port, {});
    const direct = await ask(b.port, { authorization: `Bearer ${B_ADMIN}` });
    // The same top class from A (through B) as from B itself; tench is ImageNet class 0.
    expect(viaA?.split(':')[1]).toBe('0');
    expect(viaA).toBe(direct);
  }, 60_000);

  it('refuses to start with a wrong token, saying why', async () => {
    const wrong = await startGateway([
      '--remote-url',
      `http://127.0.0.1:${b.port}`,
      '--remote-header',
      'Authorization: Bearer not-the-admin-token',
    ]);
    if ('child' in wrong) {
      await stop(wrong);
      throw new Error('gateway started with a wrong token');
    }
    expect(wrong.exit).toBe(1);
    const text = wrong.lines.join('\n');
    expect(text).toContain('REMOTE_UNAUTHORIZED');
    expect(text).toContain('answered HTTP 401: the admin token is wrong');
    // The token itself is not logged.
    expect(text).not.toContain('not-the-admin-token');
  }, 60_000);

  it('keeps the local answer of each frame when B stops taking its token', async () => {
    // B comes back with another admin token; A's header is now wrong.
    await stop(b);
    const restarted = await startGateway(['--admin-token', 'b-rotated-token-0123456789']);
    if (!('child' in restarted)) throw new Error(`gateway B did not restart: ${restarted.lines.join('\n')}`);
    b = restarted;
    target.port = b.port;
    // Another device: cam-1's frame ids are answered from A's ledger without asking B.
    const records = await runEdge(a.port, 3, 'cam-2');
    expect(records).toHaveLength(3);
    for (const r of records) {
      // The device is told why, and keeps its own answer.
      expect(r.cloud).toMatchObject({
        status: 'error',
        message: expect.stringContaining('answered HTTP 401: the admin token is wrong'),
      });
      expect(r.final?.source).toBe('local');
      expect(r.final?.index).toBe(r.local?.index);
    }
  }, 120_000);
});
