import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { edgeConfigFromCli } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';

const A = 'ws://gw-a.local:8787/v1/edge';
const B = 'wss://gw-b.local/v1/edge';
const C = 'ws://10.0.0.3:8787/v1/edge';
const base = ['--token', 'secret-token', '--source', '/data/frames', '--device-id', 'cam-1'];

const parse = async (argv: string[], env: Record<string, string> = {}) => {
  const result = await edgeConfigFromCli([...base, ...argv], env);
  if (result.ok !== true) throw new Error(JSON.stringify(result));
  return result.config;
};

const configFile = async (content: object) => {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'sg-gw-')), 'edge.json');
  await writeFile(file, JSON.stringify(content));
  return file;
};

describe('edge CLI: one gateway or several', () => {
  it('keeps a single --gateway exactly as before: no failover list', async () => {
    const config = await parse(['--gateway', A]);
    expect(config.gatewayUrl).toBe(A);
    expect(config.failover).toBeUndefined();
    expect((await parse([])).gatewayUrl).toBe('ws://127.0.0.1:8787/v1/edge');
  });

  it('takes --gateway repeated, in order: the first is dialled first, the rest are the failover', async () => {
    const config = await parse(['--gateway', A, '--gateway', B, '--gateway', C]);
    expect(config.gatewayUrl).toBe(A);
    expect(config.failover).toEqual([B, C]);
  });

  it('takes SQUEEZEGATE_GATEWAY_URL comma-separated; a flag replaces it', async () => {
    const env = { SQUEEZEGATE_GATEWAY_URL: `${A}, ${B}` };
    expect(await parse([], env)).toMatchObject({ gatewayUrl: A, failover: [B] });
    const flagged = await parse(['--gateway', C], env);
    expect(flagged.gatewayUrl).toBe(C);
    expect(flagged.failover).toBeUndefined();
  });

  it('takes a list in the config file, as gatewayUrl or as gatewayUrl + failover; flags replace it', async () => {
    const listed = await configFile({ gatewayUrl: [A, B] });
    expect(await parse(['--config', listed])).toMatchObject({ gatewayUrl: A, failover: [B] });
    const split = await configFile({ gatewayUrl: A, failover: [B, C] });
    expect(await parse(['--config', split])).toMatchObject({ gatewayUrl: A, failover: [B, C] });
    const overridden = await parse(['--config', split, '--gateway', C]);
    expect(overridden.gatewayUrl).toBe(C);
    expect(overridden.failover).toBeUndefined();
  });

  it('refuses a gateway that is not ws(s):// or one listed twice, saying which', async () => {
    const bad = await edgeConfigFromCli([...base, '--gateway', A, '--gateway', 'http://gw-b'], {});
    expect(bad).toEqual({ ok: false, issues: ['failover.0: gateway URL must be ws:// or wss://'] });
    const twice = await edgeConfigFromCli([...base, '--gateway', A, '--gateway', A], {});
    expect(twice).toEqual({ ok: false, issues: [`failover: gateway ${A} is listed twice`] });
  });

  it('reads --busy-backoff-ms base,max over the defaults', async () => {
    expect((await parse([])).busyBackoff).toEqual({ baseMs: 50, maxMs: 2000 });
    expect((await parse(['--busy-backoff-ms', '100,5000'])).busyBackoff).toEqual({
      baseMs: 100,
      maxMs: 5000,
    });
    expect((await parse(['--busy-backoff-ms', '10'])).busyBackoff).toEqual({ baseMs: 10, maxMs: 2000 });
    const bad = await edgeConfigFromCli([...base, '--busy-backoff-ms', 'soon'], {});
    expect(bad.ok).toBe(false);
  });
});
