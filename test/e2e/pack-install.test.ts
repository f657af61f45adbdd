// Each CLI package installs on its own, as a user outside this repository would get it: `npm
// pack` of the package (and of @squeezegate/shared, which it depends on), installed into an empty
// folder, runs its command with plain node on the compiled dist/ JavaScript.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.ts';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund'], { cwd, maxBuffer: 64 << 20, env: process.env });

describe('npm pack, then npm install into an empty folder', () => {
  let work: string;
  const tarballs = new Map<string, string>();

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'sg-pack-'));
    const packs = path.join(work, 'packs');
    await mkdir(packs);
    const names = ['@squeezegate/shared', '@squeezegate/edge', '@squeezegate/gateway'];
    await npm(['pack', ...names.flatMap((n) => ['-w', n]), '--pack-destination', packs], repoRoot);
    for (const file of await readdir(packs)) {
      const name = names.find((n) => file.startsWith(`${n.slice(1).replace('/', '-')}-`));
      if (name) tarballs.set(name, path.join(packs, file));
    }
  }, 120_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['@squeezegate/edge', 'squeezegate-edge', /^Usage: squeezegate-edge/],
    ['@squeezegate/gateway', 'squeezegate-gateway', /^Usage: squeezegate-gateway/],
  ])('%s gives a working %s --help', { timeout: 300_000 }, async (name, bin, usage) => {
    const tarball = tarballs.get(name)!;
    expect(tarball, `npm pack wrote ${name}`).toBeTruthy();
    const dir = path.join(work, bin);
    await mkdir(dir);
    await writeFile(path.join(dir, 'package.json'), '{ "name": "empty", "private": true }\n');
    // The same npm settings as the repository (no CUDA download for onnxruntime-node).
    await copyFile(path.join(repoRoot, '.npmrc'), path.join(dir, '.npmrc'));
    await npm(['install', '--prefer-offline', tarballs.get('@squeezegate/shared')!, tarball], dir);

    const installed = JSON.parse(
      await readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'),
    ) as { bin: Record<string, string>; dependencies: Record<string, string> };
    expect(installed.bin[bin]).toBe(`./bin/${bin}.js`);
    expect(installed.dependencies).not.toHaveProperty('tsx');
    const { stdout } = await run(path.join(dir, 'node_modules', '.bin', bin), ['--help'], { cwd: dir });
    expect(stdout).toMatch(usage);
    // Nothing of the repository leaks in: the package's own dist/ runs, not the workspace sources.
    const files = await readdir(path.join(dir, 'node_modules', name));
    expect(files.sort()).toEqual(['bin', 'dist', 'package.json']);
  });
});
