import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gatewayConfigFromCli } from '@squeezegate/gateway';
import { maskSecrets } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const base = ['--models-dir', '/tmp', '--device', 'cam-1:token-one-1111'];

describe('remote cloud tier flags', () => {
  it('--remote-header (repeated) and --remote-json make remote.headers and remote.binary', async () => {
    const parsed = await gatewayConfigFromCli(
      [
        ...base,
        '--remote-url',
        'http://10.0.0.7:8787',
        '--remote-header',
        'Authorization: Bearer b-admin-token-0123456789',
        '--remote-header',
        'X-Tenant:north: side',
        '--remote-json',
      ],
      {},
    );
    expect(parsed.ok === true && parsed.config.remote).toEqual({
      url: 'http://10.0.0.7:8787',
      timeoutMs: 10_000,
      concurrency: 4,
      // Split at the first colon, trimmed.
      headers: { Authorization: 'Bearer b-admin-token-0123456789', 'X-Tenant': 'north: side' },
      binary: false,
    });
    const plain = await gatewayConfigFromCli([...base, '--remote-url', 'http://10.0.0.7:8787'], {});
    expect(plain.ok === true && plain.config.remote).toMatchObject({ headers: {}, binary: true });
  });

  it('flags win over the file per header name, and --print-config masks every header value', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-remote-'));
    const file = path.join(dir, 'gateway.json');
    await writeFile(
      file,
      JSON.stringify({
        remote: {
          url: 'https://cloud.example:8000',
          headers: { Authorization: 'Bearer old', 'X-Keep': 'kept' },
        },
      }),
    );
    const parsed = await gatewayConfigFromCli(
      [...base, '--config', file, '--remote-header', 'Authorization: Bearer new'],
      {},
    );
    if (parsed.ok !== true) throw new Error(JSON.stringify(parsed));
    expect(parsed.config.remote?.url).toBe('https://cloud.example:8000');
    expect(parsed.config.remote?.headers).toEqual({ Authorization: 'Bearer new', 'X-Keep': 'kept' });
    expect(maskSecrets(parsed.config).remote?.headers).toEqual({ Authorization: '***', 'X-Keep': '***' });
  });

  it('refuses a header without a colon (without echoing it), a bad name, or --remote-header alone', async () => {
    const noColon = await gatewayConfigFromCli(
      [...base, '--remote-url', 'http://h:1', '--remote-header', 'Bearer s3cret'],
      {},
    );
    expect(noColon).toEqual({ ok: false, issues: ["--remote-header #1: expected 'Name: value'"] });
    const badName = await gatewayConfigFromCli(
      [...base, '--remote-url', 'http://h:1', '--remote-header', 'Bad Name: x'],
      {},
    );
    expect(badName.ok === false && badName.issues.join()).toMatch(/an HTTP header name is a token/);
    const noUrl = await gatewayConfigFromCli([...base, '--remote-header', 'Authorization: Bearer x'], {});
    expect(noUrl.ok === false && noUrl.issues.join()).toMatch(/remote\.url/);
  });
});
