// The Dockerfiles and the compose file against the repository: what they copy, install, run,
// expose and mount must exist and be what the packages need.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EDGE_WS_PATH, GatewayConfigSchema, getModelSpec } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.ts';
import {
  copiesOf,
  dockerignored,
  interpolate,
  isDirectory,
  isFile,
  pathInStage,
  readDockerignore,
  readRepoFile,
  readYaml,
  type Stage,
} from './deploy-files.ts';
import {
  bindMounts,
  COMPOSE_DIR,
  compose,
  composeEnv,
  DEFAULT_PORT,
  DOCKERFILES,
  packageJson,
  stagesOf,
  workspaceDir,
  workspaceDirs,
} from './manifests.ts';

describe.each(Object.keys(DOCKERFILES) as (keyof typeof DOCKERFILES)[])('%s Dockerfile', (which) => {
  const { workspace, exposes } = DOCKERFILES[which];
  const stages = stagesOf(which);
  const final = stages.at(-1)!;
  const deps = stages.find((s) => s.name === 'deps');
  const build = stages.find((s) => s.name === 'build');
  const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

  it('is multi-stage on node:20-bookworm-slim; runs in /app as a non-root user with models at /models', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.base).toBe('node:20-bookworm-slim');
    expect(all(final, 'WORKDIR').at(-1)?.workdir).toBe('/app');
    const user = all(final, 'USER').at(-1)?.args ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(all(final, 'ENV').flatMap((i) => i.args.split(/\s+/))).toContain('SQUEEZEGATE_MODELS_DIR=/models');
  });

  it('runs compiled JavaScript: ENTRYPOINT is dist/main.js, built from the sources in the build stage', () => {
    const entry = JSON.parse(all(final, 'ENTRYPOINT').at(-1)!.args) as string[];
    const dir = workspaceDir(workspace)!;
    expect(entry.slice(0, 2)).toEqual(['node', `${dir}/dist/main.js`]);
    // The installed command is a file that exists before the build and imports dist/main.js.
    const bin = packageJson(dir).bin?.[`squeezegate-${which}`];
    expect(bin).toBe(`./bin/squeezegate-${which}.js`);
    expect(readFileSync(path.join(repoRoot, dir, bin!), 'utf8')).toContain("import '../dist/main.js';");
    const compile = build!.instructions.find((i) => i.keyword === 'RUN' && /\btsc -b\b/.test(i.args));
    expect(compile?.args).toContain(`${dir}/tsconfig.build.json`);
    // The entry package and every workspace package it depends on: sources into the build stage,
    // manifest and dist/ into the final one.
    const pending = [workspace];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const d = workspaceDir(name)!;
      expect(isFile(`${d}/src/index.ts`)).toBe(true);
      expect(pathInStage(stages, build!, `${d}/src/index.ts`), d).toBe(`/app/${d}/src/index.ts`);
      expect(pathInStage(stages, final, `${d}/package.json`), d).toBe(`/app/${d}/package.json`);
      const dist = copiesOf(final).find(
        (c) => c.from === build!.name && c.sources.includes(`/app/${d}/dist`),
      );
      expect(dist?.dest, `${d}/dist`).toBe(`/app/${d}/dist`);
      pending.push(
        ...Object.keys(packageJson(d).dependencies ?? {}).filter((x) => x.startsWith('@squeezegate/')),
      );
    }
    expect(copiesOf(final).some((c) => c.sources.includes('/app/node_modules'))).toBe(true);
  });

  it('installs the runtime with npm ci --omit=dev after the manifests and .npmrc, with no TypeScript loader', () => {
    const order = deps!.instructions;
    const install = order.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(install).toBeGreaterThan(0);
    const command = order[install]!.args;
    expect(command).toMatch(/--omit=dev/);
    expect(command).toContain(`--workspace=${workspace}`);
    const copied = copiesOf(deps!);
    const before = copied.filter((c) => c.index < install).flatMap((c) => c.sources);
    // npm ci refuses a lock file whose workspaces are not all present.
    for (const d of workspaceDirs) expect(before).toContain(`${d}/package.json`);
    expect(before).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', '.npmrc']));
    expect(readRepoFile('.npmrc')).toMatch(/^onnxruntime-node-install=skip$/m);
    // Plain node on compiled JavaScript: no package needs tsx at run time.
    for (const d of workspaceDirs) expect(packageJson(d).dependencies ?? {}).not.toHaveProperty('tsx');
  });

  it(`exposes ${exposes.join(', ') || 'no port'}${which === 'gateway' ? ' and checks /healthz with node' : ''}`, () => {
    expect(
      all(final, 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number.parseInt(p, 10))),
    ).toEqual(exposes);
    const health = all(final, 'HEALTHCHECK').at(-1)?.args;
    if (which === 'gateway') {
      const cmd = JSON.parse(health!.slice(health!.indexOf('CMD') + 3).trim()) as string[];
      expect(cmd[0]).toBe('node');
      expect(cmd.join(' ')).toContain(String(DEFAULT_PORT));
      expect(cmd.join(' ')).toContain('/healthz');
    } else {
      expect(health).toBeUndefined();
    }
  });

  it('copies nothing that .dockerignore leaves out of the build context', () => {
    const patterns = readDockerignore();
    for (const must of ['**/node_modules', '.git', '.cache', 'models', 'bench-results', 'test']) {
      expect(patterns).toContain(must);
    }
    expect(dockerignored(patterns, 'packages/shared/node_modules/x')).toBe(true);
    for (const stage of stages) {
      for (const copy of copiesOf(stage).filter((c) => !c.from)) {
        for (const src of copy.sources) {
          expect(dockerignored(patterns, src), src).toBe(false);
          expect(isFile(src) || isDirectory(src), `${src} exists`).toBe(true);
        }
      }
    }
  });
});

describe('compose', () => {
  const { services } = compose;
  const gateway = services.gateway!;
  const edges = Object.entries(services).filter(([name]) => name.startsWith('edge-'));

  it('builds every image from an existing Dockerfile with the repository as context', () => {
    const built = Object.values(services).filter((s) => s.build);
    expect(built.map((s) => s.build!.dockerfile).sort()).toEqual([
      DOCKERFILES.edge.file,
      DOCKERFILES.edge.file,
      DOCKERFILES.gateway.file,
    ]);
    for (const s of built) {
      expect(path.resolve(COMPOSE_DIR, s.build!.context)).toBe(repoRoot);
      expect(isFile(s.build!.dockerfile), s.build!.dockerfile).toBe(true);
    }
  });

  it("publishes the gateway's port, mounts its config and checks /healthz", () => {
    expect(gateway.ports?.map((p) => p.split(':').at(-1))).toEqual([String(DEFAULT_PORT)]);
    const configArg = gateway.command?.[gateway.command.indexOf('--config') + 1];
    const config = bindMounts(gateway).find((m) => m.target === configArg);
    expect(config?.source).toBe('deploy/config/gateway.example.yaml');
    expect(bindMounts(gateway).map((m) => m.target)).toContain('/models');
    const check = gateway.healthcheck?.test.join(' ') ?? '';
    expect(check).toMatch(/^CMD node /);
    expect(check).toContain(`:${DEFAULT_PORT}/healthz`);
  });

  it('runs two agents after the gateway is healthy, connecting to it with their tokens from .env', () => {
    expect(edges).toHaveLength(2);
    for (const [name, edge] of edges) {
      expect(edge.depends_on?.gateway?.condition, name).toBe('service_healthy');
      const flag = (f: string) => edge.command?.[edge.command.indexOf(f) + 1];
      expect(flag('--gateway')).toBe(`ws://gateway:${DEFAULT_PORT}${EDGE_WS_PATH}`);
      expect(bindMounts(edge).find((m) => m.target === flag('--config'))?.source).toBe(
        'deploy/config/edge.example.yaml',
      );
      expect(bindMounts(edge).map((m) => m.target)).toEqual(
        expect.arrayContaining(['/models', flag('--source')]),
      );
      // Every agent's device id and token is one the gateway's SQUEEZEGATE_DEVICES lets in.
      const token = interpolate(edge.environment?.SQUEEZEGATE_TOKEN ?? '', composeEnv);
      const devices = interpolate(gateway.environment?.SQUEEZEGATE_DEVICES ?? '', composeEnv).split(',');
      expect(devices).toContain(`${flag('--device-id')}:${token}`);
    }
  });

  it('has Triton under a profile with a model repository that matches the cloud model', () => {
    const triton = services.triton!;
    expect(triton.profiles).toEqual(['triton']);
    expect(interpolate(triton.image, composeEnv)).toMatch(/^nvcr\.io\/nvidia\/tritonserver:/);
    const repo = bindMounts(triton).find((m) => m.target === '/models')!.source;
    const pbtxt = readRepoFile(path.join(repo, 'mobilenetv2/config.pbtxt'));
    const spec = getModelSpec('mobilenetv2-12-int8')!;
    expect(pbtxt).toContain(`name: "${spec.input.name}"`);
    expect(pbtxt).toContain(`name: "${spec.output.name}"`);
    expect(pbtxt).toMatch(/dims: \[ 3, 224, 224 \]/);
    // The gateway's batches must fit Triton's.
    const maxBatch = Number(/max_batch_size: (\d+)/.exec(pbtxt)?.[1]);
    const gatewayConfig = GatewayConfigSchema.parse(readYaml('deploy/config/gateway.example.yaml'));
    expect(maxBatch).toBeGreaterThanOrEqual(gatewayConfig.maxBatch);
    expect(readRepoFile('deploy/compose/compose.yaml')).toContain('"--remote-url", "http://triton:8000"');
  });
});
