import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHttpApp, GATEWAY_HELP, gatewayConfigFromCli } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

describe('gateway HTTP', () => {
  let ready = true;
  const app = createHttpApp({ ready: () => ready, readyDetail: () => ({ model: 'm', devices: 2 }) });

  it('answers liveness and readiness', async () => {
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', model: 'm', devices: 2 });
    ready = false;
    expect((await app.request('/readyz')).status).toBe(503);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.request('/nope', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no route POST /nope' });
  });
});

describe('gateway command line', () => {
  it('merges flags over environment over defaults', async () => {
    const parsed = await gatewayConfigFromCli(['--port', '9000', '--device', 'cam-1:abcdefgh1'], {
      SQUEEZEGATE_PORT: '1234',
      SQUEEZEGATE_HOST: '0.0.0.0',
      SQUEEZEGATE_DEVICES: 'ignored:abcdefgh2',
      SQUEEZEGATE_MODELS_DIR: '/models',
    });
    expect(parsed).toMatchObject({
      ok: true,
      config: {
        port: 9000,
        host: '0.0.0.0',
        devices: [{ id: 'cam-1', token: 'abcdefgh1' }],
        modelsDir: '/models',
        cloudModel: 'mobilenetv2-12-int8',
      },
    });
    const fromEnv = await gatewayConfigFromCli([], { SQUEEZEGATE_DEVICES: 'a:abcdefgh1,b:abcdefgh2' });
    expect(fromEnv.ok === true && fromEnv.config.devices.map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('lists every problem', async () => {
    const parsed = await gatewayConfigFromCli(
      ['--port', '70000', '--device', 'bad id:short', '--cloud-model', 'x'],
      {},
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok !== false) return;
    expect(parsed.issues).toHaveLength(4);
    const paths = parsed.issues.map((i) => i.slice(0, i.indexOf(':'))).sort();
    expect(paths).toEqual(['cloudModel', 'devices.0.id', 'devices.0.token', 'port']);
  });

  it('takes the TLS files and the limits from flags or environment', async () => {
    const parsed = await gatewayConfigFromCli(
      [
        '--tls-cert',
        '/etc/sg/cert.pem',
        '--max-frames-per-second',
        '7.5',
        '--max-connections-per-device',
        '3',
        '--answer-cache-size',
        '100',
      ],
      { SQUEEZEGATE_TLS_KEY: '/etc/sg/key.pem', SQUEEZEGATE_MODELS_DIR: '/models' },
    );
    expect(parsed).toMatchObject({
      ok: true,
      config: {
        tls: { cert: '/etc/sg/cert.pem', key: '/etc/sg/key.pem' },
        maxFramesPerSecond: 7.5,
        maxConnectionsPerDevice: 3,
        answerCacheSize: 100,
      },
    });
    const half = await gatewayConfigFromCli(['--tls-cert', '/etc/sg/cert.pem'], {});
    expect(half).toMatchObject({ ok: false, issues: [expect.stringMatching(/^tls\.key: /)] });
    expect(GATEWAY_HELP).toMatch(/--tls-cert <file>/);
    expect(GATEWAY_HELP).toMatch(/--max-frames-per-second <n>/);
  });

  it('has help with examples', async () => {
    expect(await gatewayConfigFromCli(['--help'], {})).toEqual({ ok: 'help' });
    expect(GATEWAY_HELP).toMatch(/Examples:\n\s+squeezegate-gateway --device/);
  });

  it('reads a YAML config file under flags and environment, and flags print-config', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-gw-config-'));
    const file = path.join(dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'port: 9100',
        'maxBatch: 4',
        'adminToken: admin-token-0123456789',
        'devices:',
        '  - { id: cam-a, token: token-aaaaaaaa }',
      ].join('\n'),
    );
    const parsed = await gatewayConfigFromCli(['--config', file, '--max-batch', '2', '--print-config'], {
      SQUEEZEGATE_PORT: '9200',
    });
    expect(parsed).toMatchObject({
      ok: true,
      printConfig: true,
      config: { port: 9200, maxBatch: 2, adminToken: 'admin-token-0123456789', devices: [{ id: 'cam-a' }] },
    });
    await writeFile(file, 'port: [not a number');
    const bad = await gatewayConfigFromCli(['--config', file], {});
    expect(bad).toMatchObject({ ok: false, issues: [expect.stringContaining(file)] });
  });
});
