// Who gets in and what they may do, against a real gateway (real model, TLS on, admin token set):
// each refusal with its status or close code.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import { encodeFrame, GatewayConfigSchema, PROTOCOL_VERSION } from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const ADMIN = 'security-admin-token-0123456789';
const TOKENS = { 'cam-1': 'cam-1-token-aaaa', 'cam-2': 'cam-2-token-bbbb', 'cam-9': 'cam-9-token-zzzz' };
const TENCH = path.join(datasetDir, 'n01440764_tench.jpg');
const GOLDFISH = path.join(datasetDir, 'n01443537_goldfish.jpg');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a client waits for an answer before the test reads what came: generous, never a measure. */
const WAIT_MS = 60_000;

interface Msg {
  type: string;
  code?: string;
  frameId?: string;
  message?: string;
  top?: { index: number; label: string }[];
}

describe.skipIf(!haveRealModels)('security: who gets in, and what they may do', () => {
  let gateway: Gateway;
  let ca: Buffer;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-security-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await promisify(execFile)('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
    ]);
    ca = await readFile(cert);
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        adminToken: ADMIN,
        tls: { cert, key },
        devices: [
          { id: 'cam-1', token: TOKENS['cam-1'] },
          // A file need not hold the secret: the gateway compares digests either way.
          { id: 'cam-2', tokenSha256: sha256(TOKENS['cam-2']) },
          { id: 'cam-9', token: TOKENS['cam-9'] },
        ],
        maxPayloadBytes: 256 * 1024,
        maxFramesPerSecond: 4,
        maxConnectionsPerDevice: 2,
      }),
      logger: testLogger,
    });
  });
  afterAll(() => gateway?.close());

  /** A wss client trusting the test certificate, recording messages and the close. */
  const connect = async () => {
    const ws = new WebSocket(gateway.edgeUrl, { ca });
    const messages: Msg[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    /** Waits for `n` messages (a generous deadline, not a measure); the caller checks how many came. */
    const until = async (n: number) => {
      const deadline = performance.now() + WAIT_MS;
      while (messages.length < n && performance.now() < deadline) await sleep(10);
      return messages;
    };
    return { ws, messages, closed, until };
  };
  const hello = (deviceId: string, token: string | undefined) =>
    JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, deviceId, token });
  const login = async (deviceId: keyof typeof TOKENS) => {
    const client = await connect();
    client.ws.send(hello(deviceId, TOKENS[deviceId]));
    await client.until(1);
    return client;
  };
  const frame = (frameId: string, image: Buffer) =>
    encodeFrame({ type: 'frame', frameId, seq: 0, view: 'full', mime: 'image/jpeg' }, image);

  /** An https request trusting the test certificate: status and body text. */
  const call = (
    route: string,
    options: { method?: string; token?: string; body?: string } = {},
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const req = request(
        `${gateway.url}${route}`,
        { method: options.method ?? 'GET', headers, ca },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });

  it('serves only TLS: the URLs say so, and plain HTTP or WS on the port gets no answer', async () => {
    expect(gateway.url).toMatch(/^https:/);
    expect(gateway.edgeUrl).toMatch(/^wss:/);
    const plain = gateway.url.replace('https:', 'http:');
    await expect(fetch(`${plain}/healthz`)).rejects.toThrow(/fetch failed/);
    const ws = new WebSocket(gateway.edgeUrl.replace('wss:', 'ws:'));
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', (err) => resolve(`error: ${err.message}`));
    });
    expect(outcome).toMatch(/^error: /);
    // An https client that does not trust the certificate is refused by its own TLS check.
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow(/fetch failed/);
    expect((await call('/healthz')).status).toBe(200);
  });

  it('refuses a hello without a token: BAD_MESSAGE, 1008, saying what was wrong', async () => {
    const client = await connect();
    client.ws.send(hello('cam-1', undefined));
    expect((await client.closed).code).toBe(1008);
    expect(client.messages[0]).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    expect(client.messages[0]!.message).toMatch(/token/);
  });

  it('refuses a frame before any hello: NOT_AUTHENTICATED, 1008', async () => {
    const client = await connect();
    client.ws.send(frame('f-0', await readFile(TENCH)));
    expect((await client.closed).code).toBe(1008);
    expect(client.messages[0]).toMatchObject({ type: 'error', code: 'NOT_AUTHENTICATED' });
  });

  it('refuses a wrong token, another device’s token and an unknown device: AUTH_FAILED, 1008', async () => {
    for (const [deviceId, token] of [
      ['cam-1', 'not-the-token-1'],
      ['cam-1', TOKENS['cam-2']],
      ['cam-2', sha256(TOKENS['cam-2'])], // the digest is not the token
      ['cam-7', TOKENS['cam-1']],
    ] as const) {
      const client = await connect();
      client.ws.send(hello(deviceId, token));
      expect((await client.closed).code, `${deviceId} ${token}`).toBe(1008);
      expect(client.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    }
  });

  it('classifies for a device with its token (plain or hashed in the config), once per frame id', async () => {
    const client = await login('cam-2');
    expect(client.messages[0]).toMatchObject({ type: 'welcome', deviceId: 'cam-2' });
    const tench = await readFile(TENCH);
    client.ws.send(frame('cam-2:1', tench));
    await client.until(2);
    client.ws.close();
    await client.closed;
    // Sent again after a reconnect: the same answer, not classified or counted twice.
    const before = gateway.counters();
    const again = await login('cam-2');
    again.ws.send(frame('cam-2:1', tench));
    await again.until(2);
    expect(again.messages[1]).toEqual(client.messages[1]);
    expect(client.messages[1]!.top![0]).toMatchObject({ index: 0, label: 'tench' });
    expect(gateway.counters()).toMatchObject({
      framesIn: before.framesIn,
      duplicates: before.duplicates + 1,
    });
    again.ws.close();
  });

  it('revokes a connected device through the admin API: closed with 1008 at once, reconnecting refused', async () => {
    const client = await login('cam-9');
    expect(client.messages[0]).toMatchObject({ type: 'welcome' });
    const route = '/admin/devices/cam-9/revoke';
    expect((await call(route, { method: 'POST' })).status).toBe(401);
    expect((await call(route, { method: 'POST', token: TOKENS['cam-9'] })).status).toBe(401);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    const res = await call(route, { method: 'POST', token: ADMIN });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ revoked: 'cam-9', closed: 1 });
    const { code, reason } = await client.closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/revoked/);
    expect(client.messages[1]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const again = await login('cam-9');
    expect(again.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    expect((await again.closed).code).toBe(1008);
  });

  it('keeps operator and admin endpoints behind the admin token; a device token is no key', async () => {
    for (const route of [
      '/metrics',
      '/dashboard/snapshot',
      '/admin/devices',
      '/v2/models/mobilenetv2-12-int8',
    ]) {
      expect((await call(route)).status, route).toBe(401);
      expect((await call(route, { token: TOKENS['cam-1'] })).status, route).toBe(401);
      expect((await call(route, { token: ADMIN })).status, route).toBe(200);
    }
    const devices = JSON.parse((await call('/admin/devices', { token: ADMIN })).body);
    expect(devices.devices.map((d: { id: string }) => d.id).sort()).toEqual(['cam-1', 'cam-2']);
    // Orchestrators' probes stay open.
    for (const probe of ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready']) {
      expect((await call(probe)).status, probe).toBe(200);
    }
  });

  it('needs the admin token for v2 inference', async () => {
    const body = JSON.stringify({
      inputs: [
        { name: 'input', shape: [1], datatype: 'BYTES', data: [(await readFile(TENCH)).toString('base64')] },
      ],
      outputs: [{ name: 'output', parameters: { classification: 1 } }],
    });
    const route = '/v2/models/mobilenetv2-12-int8/infer';
    expect((await call(route, { method: 'POST', body })).status).toBe(401);
    expect((await call(route, { method: 'POST', body, token: TOKENS['cam-1'] })).status).toBe(401);
    const res = await call(route, { method: 'POST', body, token: ADMIN });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).outputs[0].data[0]).toMatch(/:0$/); // class 0, tench
  });

  it('answers frames over the device’s rate RATE_LIMITED and keeps the socket up', async () => {
    const client = await login('cam-1');
    const images = [await readFile(TENCH), await readFile(GOLDFISH)];
    // Distinct frames at once, twice the bucket of 4: every frame gets an answer.
    const sentAt = performance.now();
    for (let i = 0; i < 8; i++) client.ws.send(frame(`rate-${i}`, images[i % 2]!));
    // Every frame was admitted or refused before the last one was answered (a refusal comes at
    // once): the bucket refilled 4 a second during that span, and no more.
    const deadline = sentAt + WAIT_MS;
    while (!client.messages.some((m) => m.frameId === 'rate-7') && performance.now() < deadline)
      await sleep(2);
    const refilled = Math.floor(((performance.now() - sentAt) / 1000) * 4);
    const answers = (await client.until(9)).slice(1);
    expect(answers).toHaveLength(8);
    const limited = answers.filter((a) => a.code === 'RATE_LIMITED');
    const results = answers.filter((a) => a.type === 'result');
    expect(results.length + limited.length).toBe(8);
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(results.length).toBeLessThanOrEqual(4 + refilled);
    if (refilled === 0) expect(limited).toHaveLength(4);
    expect(new Set(answers.map((a) => a.frameId)).size).toBe(8);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.ws.close();
    await client.closed;
  });

  it('refuses a connection over the per-device limit with TOO_MANY_CONNECTIONS and 1008', async () => {
    const first = await login('cam-1');
    const second = await login('cam-1');
    const third = await login('cam-1');
    expect([first, second].map((c) => c.messages[0]?.type)).toEqual(['welcome', 'welcome']);
    expect(third.messages[0]).toMatchObject({ type: 'error', code: 'TOO_MANY_CONNECTIONS' });
    expect((await third.closed).code).toBe(1008);
    expect(first.ws.readyState).toBe(WebSocket.OPEN);
    first.ws.close();
    second.ws.close();
    await Promise.all([first.closed, second.closed]);
  });

  it('closes with 1009 on a message over maxPayloadBytes', async () => {
    const client = await login('cam-1');
    client.ws.send(Buffer.alloc(300 * 1024));
    expect((await client.closed).code).toBe(1009);
  });
});

describe.skipIf(!haveRealModels)('squeezegate-gateway reloads its devices on SIGHUP', () => {
  it('closes the connections of a device taken out of the config file, and refuses it from then on', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-sighup-'));
    const file = path.join(dir, 'gateway.yaml');
    const write = (devices: string[]) => writeFile(file, ['port: 0', 'devices:', ...devices].join('\n'));
    await write(['  - { id: cam-a, token: token-a-aaaaaaaa }', '  - { id: cam-b, token: token-b-bbbbbbbb }']);
    const { SQUEEZEGATE_DEVICES: _ignored, ...env } = process.env;
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'packages/gateway/dist/main.js'), '--config', file],
      {
        cwd: repoRoot,
        env: { ...env, SQUEEZEGATE_MODELS_DIR: modelsDir },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = once(child, 'exit');
    try {
      const logs: Record<string, unknown>[] = [];
      const waiting: { msg: string; resolve: (log: Record<string, unknown>) => void }[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const log = JSON.parse(line) as Record<string, unknown>;
        logs.push(log);
        for (const w of waiting.filter((w) => w.msg === log.msg)) w.resolve(log);
      });
      const logged = (msg: string) =>
        new Promise<Record<string, unknown>>((resolve) => {
          const seen = logs.find((l) => l.msg === msg);
          if (seen) resolve(seen);
          else waiting.push({ msg, resolve });
        });
      const { port } = await logged('gateway listening');
      const login = async (deviceId: string, token: string) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/edge`);
        const messages: Msg[] = [];
        ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
        const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
        await once(ws, 'open');
        ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, deviceId, token }));
        const deadline = performance.now() + WAIT_MS;
        while (messages.length === 0 && performance.now() < deadline) await sleep(10);
        return { ws, messages, closed };
      };
      const a = await login('cam-a', 'token-a-aaaaaaaa');
      const b = await login('cam-b', 'token-b-bbbbbbbb');
      expect([a.messages[0]?.type, b.messages[0]?.type]).toEqual(['welcome', 'welcome']);

      await write(['  - { id: cam-a, token: token-a-aaaaaaaa }']);
      child.kill('SIGHUP');
      expect(await b.closed).toBe(1008);
      expect(b.messages[1]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      expect(await logged('devices reloaded')).toMatchObject({ removed: ['cam-b'], closed: 1, devices: 1 });
      expect(a.ws.readyState).toBe(WebSocket.OPEN);
      const again = await login('cam-b', 'token-b-bbbbbbbb');
      expect(again.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      a.ws.close();
    } finally {
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    }
  });
});
