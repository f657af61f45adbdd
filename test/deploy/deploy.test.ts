// deploy/ as a whole, and the deployment files run against the real code: the example configs
// through the real schemas and command lines, the probe routes on the real app, the systemd
// unit's ExecStart and the gateway's --print-config as processes.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { edgeConfigFromCli } from '@squeezegate/edge';
import { createHttpApp, gatewayConfigFromCli } from '@squeezegate/gateway';
import {
  EDGE_WS_PATH,
  EdgeConfigSchema,
  GatewayConfigSchema,
  maskSecrets,
  parseConfig,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { datasetDir, haveRealModels, modelsDir, repoRoot } from '../support/env.ts';
import {
  deployDir,
  interpolate,
  parseEnvFile,
  parseUnit,
  readRepoFile,
  readYaml,
  readYamlDocuments,
  yamlFiles,
} from './deploy-files.ts';
import {
  byKind,
  ConfigMap,
  compose,
  composeEnv,
  DEFAULT_PORT,
  finalStage,
  gatewayContainer,
  PLACEHOLDER,
  Secret,
} from './manifests.ts';

const run = promisify(execFile);

describe('deploy/ YAML', () => {
  it('every YAML file parses without errors or warnings', () => {
    const files = yamlFiles(deployDir);
    expect(files).toEqual(
      expect.arrayContaining([
        'deploy/compose/compose.yaml',
        'deploy/config/edge.example.yaml',
        'deploy/config/gateway.example.yaml',
        'deploy/k8s/kustomization.yaml',
      ]),
    );
    for (const file of files) {
      const docs = readYamlDocuments(file);
      expect(docs.length, file).toBeGreaterThan(0);
      for (const doc of docs) expect(doc, file).toBeTypeOf('object');
    }
  });
});

describe('example configuration files', () => {
  const gatewayExample = readYaml('deploy/config/gateway.example.yaml');
  const edgeExample = readYaml('deploy/config/edge.example.yaml') as Record<string, unknown>;
  const edgeEnv = parseEnvFile(readRepoFile('deploy/systemd/edge.env.example'));

  it('gateway.example.yaml is a valid gateway config as it is, with placeholder secrets', () => {
    const parsed = parseConfig(GatewayConfigSchema, gatewayExample);
    expect(parsed).toMatchObject({ ok: true, config: { port: DEFAULT_PORT, host: '0.0.0.0' } });
    if (parsed.ok !== true) return;
    expect(parsed.config.devices.map((d) => d.id)).toEqual(['cam-1', 'cam-2']);
    for (const secret of [...parsed.config.devices.map((d) => d.token), parsed.config.adminToken]) {
      expect(secret).toMatch(PLACEHOLDER);
    }
  });

  it('edge.example.yaml is a valid agent config with the device id and token of edge.env.example', async () => {
    expect(edgeExample, 'secrets stay in the environment file').not.toHaveProperty('token');
    const parsed = parseConfig(EdgeConfigSchema, {
      ...edgeExample,
      deviceId: edgeEnv.SQUEEZEGATE_DEVICE_ID,
      token: edgeEnv.SQUEEZEGATE_TOKEN,
    });
    expect(parsed).toMatchObject({ ok: true });
    expect(edgeEnv.SQUEEZEGATE_TOKEN).toMatch(PLACEHOLDER);
    // As the agent loads it: the file plus the unit's environment.
    const file = path.join(repoRoot, 'deploy/config/edge.example.yaml');
    const cli = await edgeConfigFromCli(['--config', file], edgeEnv);
    expect(cli).toMatchObject({
      ok: true,
      config: { deviceId: 'cam-1', modelsDir: '/opt/squeezegate/models', policy: { kind: 'threshold' } },
    });
  });

  it("the ConfigMap's gateway.yaml is valid as it is, and with the Secret's variables", async () => {
    const data = byKind('ConfigMap', ConfigMap).data['gateway.yaml']!;
    expect(parseConfig(GatewayConfigSchema, parseYaml(data)).ok).toBe(true);
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-deploy-'));
    const file = path.join(dir, 'gateway.yaml');
    await writeFile(file, data);
    const secret = byKind('Secret', Secret).stringData;
    for (const value of Object.values(secret)) expect(value).toMatch(/REPLACE-ME-/);
    const parsed = await gatewayConfigFromCli(['--config', file], secret);
    expect(parsed).toMatchObject({ ok: true, config: { port: DEFAULT_PORT, modelsDir: '/models' } });
    if (parsed.ok !== true) return;
    expect(parsed.config.devices.map((d) => d.id)).toEqual(['cam-1', 'cam-2']);
    expect(parsed.config.adminToken).toBe(secret.SQUEEZEGATE_ADMIN_TOKEN);
  });

  it("compose's gateway environment, filled from .env.example, is valid over the mounted file", async () => {
    const env = Object.fromEntries(
      Object.entries(compose.services.gateway!.environment ?? {}).map(([k, v]) => [
        k,
        interpolate(v, composeEnv),
      ]),
    );
    const file = path.join(repoRoot, 'deploy/config/gateway.example.yaml');
    const parsed = await gatewayConfigFromCli(['--config', file], env);
    expect(parsed).toMatchObject({ ok: true });
  });
});

describe('health routes the probes and health checks use', () => {
  const paths = new Set<string>();
  for (const p of [
    gatewayContainer.livenessProbe,
    gatewayContainer.readinessProbe,
    gatewayContainer.startupProbe,
  ]) {
    if (p) paths.add(p.httpGet.path);
  }
  const checks = [
    compose.services.gateway?.healthcheck?.test.join(' ') ?? '',
    finalStage('gateway').instructions.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '',
  ];
  for (const text of checks) for (const m of text.matchAll(/\/(?:healthz|readyz)\b/g)) paths.add(m[0]);

  it('answer 200 on the real app; /readyz turns 503 once shutdown begins', async () => {
    expect([...paths].sort()).toEqual(['/healthz', '/readyz']);
    let ready = true;
    const app = createHttpApp({ ready: () => ready, readyDetail: () => ({}) });
    for (const p of paths) expect((await app.request(p)).status, p).toBe(200);
    ready = false;
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/healthz')).status).toBe(200);
  });
});

/** The environment of a shell without the test's squeezegate variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SQUEEZEGATE_')));
}

async function runNode(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { ...options, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// The gateway's --config and --print-config (packages/gateway/src/cli-config.ts, main.ts).
describe('squeezegate-gateway --config deploy/config/gateway.example.yaml --print-config', () => {
  it('prints the effective config with every secret masked and exits 0', async () => {
    const example = 'deploy/config/gateway.example.yaml';
    const { code, stdout, stderr } = await runNode(
      ['packages/gateway/dist/main.js', '--config', example, '--print-config'],
      { cwd: repoRoot, env: cleanEnv() },
    );
    expect(code, stderr).toBe(0);
    const printed = JSON.parse(stdout) as unknown;
    const expected = parseConfig(GatewayConfigSchema, readYaml(example));
    expect(expected.ok).toBe(true);
    if (expected.ok !== true) return;
    expect(printed).toEqual(maskSecrets(expected.config));
    expect(printed).toMatchObject({ devices: [{ token: '***' }, { token: '***' }], adminToken: '***' });
    expect(stdout).not.toMatch(/REPLACE-ME-/);
  });
});

describe('squeezegate-edge.service', () => {
  const unit = parseUnit(readRepoFile('deploy/systemd/squeezegate-edge.service'));
  const service = unit.get('Service')!;
  const one = (key: string) => service.get(key)?.at(-1);

  it('is hardened and writes only to its state directory', () => {
    expect(one('Type')).toBe('simple');
    expect(one('Restart')).toBe('on-failure');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('User') ?? (one('DynamicUser') === 'yes' ? 'dynamic' : 'root')).not.toBe('root');
    expect(one('ReadWritePaths')).toBe(`/var/lib/${one('StateDirectory')}`);
    expect(one('EnvironmentFile')).toBe('/etc/squeezegate/edge.env');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it.skipIf(!haveRealModels)(
    'ExecStart starts the agent: 3 frames, a result line each, exit 0 with no gateway listening',
    async () => {
      const [node, ...args] = one('ExecStart')!.split(/\s+/);
      expect(node).toBe('/usr/bin/node');
      const onDevice = (p: string) => p.replace(/^\/opt\/squeezegate(?=\/|$)/, repoRoot);
      const dir = await mkdtemp(path.join(tmpdir(), 'sg-systemd-'));
      const frames = path.join(dir, 'frames');
      await mkdir(frames);
      const images = (await readdir(datasetDir)).filter((f) => f.endsWith('.jpg')).slice(0, 3);
      for (const f of images) await copyFile(path.join(datasetDir, f), path.join(frames, f));
      const example = readYaml('deploy/config/edge.example.yaml') as Record<string, unknown>;
      const config = path.join(dir, 'edge.yaml');
      await writeFile(
        config,
        stringify({
          ...example,
          gatewayUrl: `ws://127.0.0.1:9${EDGE_WS_PATH}`,
          source: { ...(example.source as object), dir: frames },
          privacy: { ...(example.privacy as object), ledger: path.join(dir, 'ledger.jsonl') },
        }),
      );
      // The ledger lives in the unit's writable state directory, which systemd creates.
      const ledger = (example.privacy as { ledger: string }).ledger;
      expect(path.dirname(ledger)).toBe(`/var/lib/${one('StateDirectory')}`);
      const configAt = args.indexOf('--config');
      expect(args[configAt + 1]).toBe('/etc/squeezegate/edge.yaml');
      const argv = args.map(onDevice);
      argv[configAt + 1] = config;
      // systemd starts the service with a minimal environment plus the EnvironmentFile.
      const envFile = parseEnvFile(readRepoFile('deploy/systemd/edge.env.example'));
      const { code, stdout, stderr } = await runNode(argv, {
        cwd: onDevice(one('WorkingDirectory') ?? '/'),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...envFile, SQUEEZEGATE_MODELS_DIR: modelsDir },
      });
      expect(code, stderr).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.map((r) => r.file).sort()).toEqual([...images].sort());
      for (const r of records) {
        expect(r).toMatchObject({ deviceId: envFile.SQUEEZEGATE_DEVICE_ID, final: { source: 'local' } });
      }
      expect(stderr).toMatch(/ECONNREFUSED/);
    },
  );
});
