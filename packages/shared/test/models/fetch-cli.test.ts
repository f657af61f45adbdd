import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModelSpec, sha256File } from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRealModels, modelsDir } from '../../../../test/support/env.ts';

/** Repository root: the CLI runs from there, as `npm run models:fetch` does. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = 'packages/shared/src/models/fetch-cli.ts';
const MODELS_DIR = modelsDir;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  // The CLI falls back to these when flags are missing; keep the caller's environment out.
  const env = { ...process.env };
  delete env.SQUEEZEGATE_MODELS_DIR;
  delete env.SQUEEZEGATE_MODELS_MIRROR;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, env, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Serves the real cloud model and the labels under /mirror/, only the labels under /empty/
 * (so no run falls through to an upstream URL on the internet); everything else is 404.
 */
let server: Server;
let base: string;
const dirs: string[] = [];
beforeAll(async () => {
  if (!haveRealModels) return;
  const model = await readFile(path.join(MODELS_DIR, 'mobilenetv2-12-int8.onnx'));
  const labels = await readFile(path.join(MODELS_DIR, 'imagenet-simple-labels.json'));
  server = createServer((req, res) => {
    if (req.url === '/mirror/mobilenetv2-12-int8.onnx') {
      res.writeHead(200, { 'content-length': model.length }).end(model);
    } else if (
      req.url === '/mirror/imagenet-simple-labels.json' ||
      req.url === '/empty/imagenet-simple-labels.json'
    ) {
      res.writeHead(200, { 'content-length': labels.length }).end(labels);
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sqz-fetch-cli-'));
  dirs.push(dir);
  return dir;
}

describe.skipIf(!haveRealModels)('models:fetch CLI', () => {
  it('downloads a model from the mirror and exits 0', async () => {
    const dir = await tempDir();
    const run = await runCli([
      '--models-dir',
      dir,
      '--mirror',
      `${base}/mirror`,
      '--only',
      'mobilenetv2-12-int8',
    ]);
    expect(run.stderr).toContain(`✓ mobilenetv2-12-int8.onnx from ${base}/mirror/mobilenetv2-12-int8.onnx`);
    expect(run.stderr).toContain(`${dir}: 2 ok, 0 failed`);
    expect(run.code).toBe(0);
    // The labels come with any model: its output is read through them.
    expect((await readdir(dir)).sort()).toEqual(['imagenet-simple-labels.json', 'mobilenetv2-12-int8.onnx']);
    expect(await sha256File(path.join(dir, 'mobilenetv2-12-int8.onnx'))).toBe(
      getModelSpec('mobilenetv2-12-int8')?.sha256,
    );
  });

  it('exits 1 and names the file when the mirror answers 404', async () => {
    // squeezenet1.1 has no upstream URL, so only the (failing) mirror is tried; mobilenet would
    // fall through to github.com and make the test depend on the network.
    const dir = await tempDir();
    const run = await runCli(['--models-dir', dir, '--mirror', `${base}/empty`, '--only', 'squeezenet1.1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('✗ squeezenet1.1.onnx: could not fetch squeezenet1.1.onnx');
    expect(run.stderr).toContain(`${base}/empty/squeezenet1.1.onnx: HTTP 404`);
    expect(run.stderr).toContain('1 ok, 1 failed');
    expect(await readdir(dir)).toEqual(['imagenet-simple-labels.json']);
  });

  it('exits 2 on an unknown model id', async () => {
    const dir = await tempDir();
    const run = await runCli(['--models-dir', dir, '--only', 'resnet50']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown model id in --only; known: squeezenet1.1');
  });
});
