import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { maskSecrets, readConfigFile } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-files-'));
  await writeFile(path.join(dir, name), text);
  return path.join(dir, name);
}

describe('config files', () => {
  it('reads YAML and JSON into the same object', async () => {
    const yaml = await file('a.yaml', 'port: 9000\ndevices:\n  - id: cam-1\n    token: abcdefgh1\n');
    const json = await file('a.json', '{"port": 9000, "devices": [{"id": "cam-1", "token": "abcdefgh1"}]}');
    const a = await readConfigFile(yaml);
    const b = await readConfigFile(json);
    expect(a).toEqual({ ok: true, value: { port: 9000, devices: [{ id: 'cam-1', token: 'abcdefgh1' }] } });
    expect(b).toEqual(a);
  });

  it('reports a missing file, bad syntax and a non-mapping with the file name', async () => {
    expect(await readConfigFile('/nonexistent/x.yaml')).toMatchObject({
      ok: false,
      issues: [expect.stringMatching(/^\/nonexistent\/x\.yaml: .*ENOENT/)],
    });
    const bad = await file('b.yaml', 'port: [1, 2');
    expect(await readConfigFile(bad)).toMatchObject({ ok: false, issues: [expect.stringContaining(bad)] });
    const list = await file('c.yml', '- 1\n- 2\n');
    expect(await readConfigFile(list)).toMatchObject({
      ok: false,
      issues: [expect.stringMatching(/mapping/)],
    });
  });

  it('masks every secret, however deep, and leaves the rest', () => {
    const config = {
      token: 'device-secret',
      adminToken: 'admin-secret-0123456789',
      devices: [{ id: 'cam-1', token: 'abcdefgh1' }],
      policy: { kind: 'threshold', threshold: 0.5 },
    };
    expect(maskSecrets(config)).toEqual({
      token: '***',
      adminToken: '***',
      devices: [{ id: 'cam-1', token: '***' }],
      policy: { kind: 'threshold', threshold: 0.5 },
    });
    expect(config.token).toBe('device-secret'); // a copy, not in place
  });

  it('masks the password a URL carries, wherever it is, and leaves other URLs alone', () => {
    expect(
      maskSecrets({
        redis: { url: 'redis://:s3cret@redis:6379/0' },
        video: { mqtt: { url: 'mqtt://cam:pa55@broker:1883' } },
        gatewayUrl: ['ws://gw-a:8787/v1/edge', 'wss://user@gw-b/v1/edge'],
      }),
    ).toEqual({
      redis: { url: 'redis://:***@redis:6379/0' },
      video: { mqtt: { url: 'mqtt://cam:***@broker:1883' } },
      gatewayUrl: ['ws://gw-a:8787/v1/edge', 'wss://user@gw-b/v1/edge'],
    });
  });
});
