import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gatewayConfigFromCli, reloadDevices, TlsSetupError } from '@squeezegate/gateway';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN,
  connect,
  DEVICES,
  device,
  frame,
  jpeg,
  logger,
  selfSignedCert,
  startGateway,
} from './harness.ts';

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('gateway trust and limits', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });
  const start = async (settings: Record<string, unknown> = {}) => {
    const started = await startGateway({ adminToken: ADMIN, ...settings });
    stop = () => started.gateway.close();
    return started;
  };

  it('answers frames over the rate RATE_LIMITED, keeps the socket up, and refills', async () => {
    const { gateway, backend } = await start({ maxFramesPerSecond: 2 });
    const edge = await device(gateway.edgeUrl);
    const image = await jpeg(1);
    for (let i = 0; i < 4; i++) edge.ws.send(frame(`f-${i}`, image));
    const answers = (await edge.received(5)).slice(1);
    const byId = Object.fromEntries(answers.map((a) => [a.frameId, a]));
    expect([0, 1, 2, 3].map((i) => byId[`f-${i}`]?.type)).toEqual(['result', 'result', 'error', 'error']);
    expect(byId['f-2']).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/2 frames per second/),
    });
    expect(backend.inferences()).toBe(2);
    // Not kept as the answer: the same frame after the bucket refilled is classified.
    await new Promise((r) => setTimeout(r, 600));
    edge.ws.send(frame('f-2', image));
    const [, , , , , again] = await edge.received(6);
    expect(again).toMatchObject({ type: 'result', frameId: 'f-2' });
    expect(edge.ws.readyState).toBe(edge.ws.OPEN);
    edge.ws.close();
  });

  it('refuses a connection beyond maxConnectionsPerDevice with TOO_MANY_CONNECTIONS and 1008', async () => {
    const { gateway } = await start({ maxConnectionsPerDevice: 1 });
    const first = await device(gateway.edgeUrl);
    expect(first.messages[0]).toMatchObject({ type: 'welcome' });
    const second = await device(gateway.edgeUrl);
    expect(second.messages[0]).toMatchObject({ type: 'error', code: 'TOO_MANY_CONNECTIONS' });
    expect((await second.closed).code).toBe(1008);
    // Other devices are not affected, and the slot frees when the first goes.
    expect((await device(gateway.edgeUrl, 'cam-2')).messages[0]).toMatchObject({ type: 'welcome' });
    first.ws.close();
    await first.closed;
    await until(async () => (await adminDevices(gateway.url))['cam-1'] === 0);
    expect((await device(gateway.edgeUrl)).messages[0]).toMatchObject({ type: 'welcome' });
  });

  it('revokes a device at once: its sockets close with 1008, its token no longer works', async () => {
    const { gateway } = await start();
    const a = await device(gateway.edgeUrl);
    const b = await device(gateway.edgeUrl);
    const other = await device(gateway.edgeUrl, 'cam-2');
    const url = `${gateway.url}/admin/devices/cam-1/revoke`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', ...bearer(DEVICES[0]!.token) })).status).toBe(401);
    const res = await fetch(url, { method: 'POST', ...bearer(ADMIN) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: 'cam-1', closed: 2 });
    for (const client of [a, b]) {
      expect((await client.closed).code).toBe(1008);
      expect(client.messages[1]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    }
    const again = await device(gateway.edgeUrl);
    expect(again.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    expect((await again.closed).code).toBe(1008);
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    expect((await fetch(url, { method: 'POST', ...bearer(ADMIN) })).status).toBe(404);
    expect(await adminDevices(gateway.url)).toEqual({ 'cam-2': 1 });
    other.ws.close();
  });

  it('keeps the admin API off without an admin token, and every guarded route behind one', async () => {
    const open = await startGateway();
    try {
      const off = await fetch(`${open.gateway.url}/admin/devices/cam-1/revoke`, { method: 'POST' });
      expect(off.status).toBe(403);
      expect((await fetch(`${open.gateway.url}/metrics`)).status).toBe(200);
    } finally {
      await open.gateway.close();
    }
    const { gateway } = await start();
    const guarded = [
      '/metrics',
      '/dashboard/snapshot',
      '/admin/devices',
      '/v2',
      '/v2/models/mobilenetv2-12-int8',
    ];
    for (const route of guarded) {
      expect((await fetch(`${gateway.url}${route}`)).status, route).toBe(401);
      expect((await fetch(`${gateway.url}${route}`, bearer(DEVICES[1]!.token))).status, route).toBe(401);
      expect((await fetch(`${gateway.url}${route}`, bearer(ADMIN))).status, route).toBe(200);
    }
    const infer = `${gateway.url}/v2/models/mobilenetv2-12-int8/infer`;
    expect((await fetch(infer, { method: 'POST', body: '{}' })).status).toBe(401);
    // With the token the request reaches the v2 API, which then judges the body.
    expect((await fetch(infer, { method: 'POST', body: '{}', ...bearer(ADMIN) })).status).toBe(400);
    for (const probe of ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready']) {
      expect((await fetch(`${gateway.url}${probe}`)).status, probe).toBe(200);
    }
  });

  it('reloads the device list from the configuration, closing what is no longer allowed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-reload-'));
    const file = path.join(dir, 'gateway.yaml');
    const write = (devices: string[]) =>
      writeFile(file, ['port: 0', 'modelsDir: /nonexistent', 'devices:', ...devices].join('\n'));
    await write([
      '  - { id: cam-1, token: token-one-1111 }',
      '  - { id: cam-2, token: token-two-2222 }',
      '  - { id: cam-3, token: token-three-3333 }',
    ]);
    const load = () => gatewayConfigFromCli(['--config', file], {});
    const initial = await load();
    if (initial.ok !== true) throw new Error('test config invalid');
    const { gateway } = await start({ devices: initial.config.devices });
    const one = await device(gateway.edgeUrl, 'cam-1');
    const two = await device(gateway.edgeUrl, 'cam-2');
    const three = await device(gateway.edgeUrl, 'cam-3', 'token-three-3333');
    const sha = (await import('node:crypto')).createHash('sha256').update('token-four-4444').digest('hex');
    await write([
      '  - { id: cam-1, token: token-one-1111 }',
      '  - { id: cam-3, token: token-three-new }',
      `  - { id: cam-4, tokenSha256: ${sha} }`,
    ]);
    const outcome = await reloadDevices({ load, current: initial.config, gateway, logger });
    expect(outcome).toEqual({
      ok: true,
      devices: 3,
      added: ['cam-4'],
      removed: ['cam-2'],
      changed: ['cam-3'],
      stillRevoked: [],
      closed: 2,
      needRestart: [],
    });
    expect((await two.closed).code).toBe(1008);
    expect((await three.closed).code).toBe(1008);
    expect(one.ws.readyState).toBe(one.ws.OPEN);
    expect((await device(gateway.edgeUrl, 'cam-4', 'token-four-4444')).messages[0]).toMatchObject({
      type: 'welcome',
    });
    expect((await device(gateway.edgeUrl, 'cam-3', 'token-three-new')).messages[0]).toMatchObject({
      type: 'welcome',
    });

    // A revoked credential stays out across reloads; an invalid file changes nothing.
    await fetch(`${gateway.url}/admin/devices/cam-1/revoke`, { method: 'POST', ...bearer(ADMIN) });
    const kept = await reloadDevices({ load, current: initial.config, gateway, logger });
    expect(kept).toMatchObject({ ok: true, devices: 2, stillRevoked: ['cam-1'], added: [], removed: [] });
    await writeFile(file, 'devices:\n  - { id: cam-1, token: short }\nport: 1');
    const refused = await reloadDevices({ load, current: initial.config, gateway, logger });
    expect(refused).toMatchObject({
      ok: false,
      issues: expect.arrayContaining([expect.stringMatching(/^devices\.0/)]),
    });
    expect(Object.keys(await adminDevices(gateway.url)).sort()).toEqual(['cam-3', 'cam-4']);
  });

  it('on close: refuses new frames, answers the ones in flight, then closes with 1001', async () => {
    const { gateway, backend } = await start();
    stop = undefined;
    backend.hold();
    const edge = await device(gateway.edgeUrl);
    const events: string[] = [];
    edge.ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      events.push(`${m.frameId}:${m.type === 'result' ? 'result' : m.code}`);
    });
    void edge.closed.then(({ code }) => events.push(`close:${code}`));
    edge.ws.send(frame('f-1', await jpeg(1)));
    edge.ws.send(frame('f-2', await jpeg(2)));
    await until(() => gateway.counters().framesIn === 2 && gateway.batching().running === 1);
    const closing = gateway.close();
    edge.ws.send(frame('f-3', await jpeg(3)));
    await until(() => events.includes('f-3:SHUTTING_DOWN'));
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
    backend.release();
    await closing;
    await edge.closed;
    // f-1 and f-2 in either order (they decode in parallel), both before the close.
    expect(events[0]).toBe('f-3:SHUTTING_DOWN');
    expect(events.slice(1, 3).sort()).toEqual(['f-1:result', 'f-2:result']);
    expect(events.slice(3)).toEqual(['close:1001']);
  });

  it('serves https and wss with tls, and a plain client on that port gets nothing', async () => {
    const tls = await selfSignedCert();
    const ca = await readFile(tls.cert);
    const { gateway } = await start({ tls });
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.edgeUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/edge$/);
    const edge = await device(gateway.edgeUrl, 'cam-1', undefined, { ca });
    edge.ws.send(frame('f-1', await jpeg(1)));
    const [welcome, answer] = await edge.received(2);
    expect(welcome).toMatchObject({ type: 'welcome' });
    expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
    edge.ws.close();
    expect(await httpsStatus(`${gateway.url}/healthz`, ca)).toBe(200);
    // The certificate is checked: without trusting it the handshake fails.
    await expect(connect(gateway.edgeUrl)).rejects.toThrow(/self[- ]signed/i);
    const plain = gateway.url.replace('https:', 'http:');
    await expect(fetch(`${plain}/healthz`)).rejects.toThrow();
    await expect(connect(gateway.edgeUrl.replace('wss:', 'ws:'))).rejects.toThrow();
  });

  it('fails to start with a TlsSetupError naming an unreadable or invalid file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-badtls-'));
    await writeFile(path.join(dir, 'cert.pem'), 'not a certificate');
    await writeFile(path.join(dir, 'key.pem'), 'not a key');
    const missing = path.join(dir, 'missing.pem');
    await expect(
      startGateway({ tls: { cert: path.join(dir, 'cert.pem'), key: missing } }),
    ).rejects.toMatchObject({
      name: 'TlsSetupError',
      code: 'TLS_FILE_UNREADABLE',
      file: missing,
      message: `cannot read the TLS key ${missing}`,
    });
    const invalid = await startGateway({
      tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') },
    }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(TlsSetupError);
    expect(invalid).toMatchObject({ code: 'TLS_INVALID' });
  });
});

async function adminDevices(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/admin/devices`, bearer(ADMIN));
  const body = (await res.json()) as { devices: { id: string; connections: number }[] };
  return Object.fromEntries(body.devices.map((d) => [d.id, d.connections]));
}

function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
