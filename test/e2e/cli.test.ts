import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode as runCli, userEnv } from '../support/cli.ts';
import { datasetDir, haveRealModels, repoRoot } from '../support/env.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');
const GATEWAY = path.join(repoRoot, 'packages/gateway/dist/main.js');
const DEMO = path.join(repoRoot, 'packages/demo/dist/main.js');

describe.skipIf(!haveRealModels)('command lines, as a user runs them', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('npm start: gateway plus two edges, summary table and --json', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-demo-'));
    const json = path.join(dir, 'summary.json');
    const { code, stdout, stderr } = await runCli([
      DEMO,
      '--dataset',
      datasetDir,
      '--limit',
      '24',
      '--json',
      json,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/cascade top-1/);
    const summary = JSON.parse(await readFile(json, 'utf8'));
    expect(summary).toMatchObject({ frames: 24, edges: 2, failed: 0 });
    for (const key of [
      'offloaded',
      'offloadRate',
      'edgeTop1',
      'cascadeTop1',
      'cloudTop1',
      'bytesUp',
      'bytesFrames',
    ]) {
      expect(typeof summary[key], key).toBe('number');
    }
    expect(summary.offloaded).toBe(Math.round(summary.offloadRate * 24));
    expect(summary.latencyMs.p95).toBeGreaterThanOrEqual(summary.latencyMs.p50);
    expect(summary.bytesUp).toBeGreaterThan(0);
    expect(summary.bytesUp).toBeLessThan(summary.bytesFrames);
  });

  it('npm start with another policy and payload: a byte budget sending originals', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-demo-'));
    const json = path.join(dir, 'summary.json');
    const { code, stderr } = await runCli([
      DEMO,
      '--dataset',
      datasetDir,
      '--limit',
      '30',
      '--policy',
      'budget',
      '--bytes-per-second',
      '3000',
      '--threshold',
      '0.9',
      '--payload',
      'original',
      '--json',
      json,
    ]);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(await readFile(json, 'utf8'));
    expect(summary.policy).toBe(
      '3000 B/s byte budget, least maxProb first, sends original, answers fused (edge weight 0.25)',
    );
    expect(summary.frames).toBe(30);
    // A budget of 3 kB/s (6 kB burst) carries one frame of ~30 kB per edge, then one per ~10 s:
    // however slow the machine, far fewer than the 30 frames.
    expect(summary.held).toBeGreaterThan(0);
    expect(summary.offloaded).toBeLessThan(30);
  });

  it('npm start on an unlabelled folder reports null accuracies', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-unlabelled-'));
    for (const f of ['n01440764_tench.jpg', 'n01443537_goldfish.jpg', 'n01484850_great_white_shark.jpg']) {
      await copyFile(path.join(datasetDir, f), path.join(dir, f));
    }
    const json = path.join(dir, 'summary.json');
    const { code, stderr } = await runCli([DEMO, '--dataset', dir, '--json', json]);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(await readFile(json, 'utf8'));
    expect(summary).toMatchObject({ frames: 3, edgeTop1: null, cascadeTop1: null, cloudTop1: null });
  });

  it('npm start with no dataset says where to get one and how to point at it', async () => {
    const { code, stderr } = await runCli([DEMO]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--dataset <dir>/);
    expect(stderr).toMatch(/SQUEEZEGATE_DATASET_DIR/);
    expect(stderr).toMatch(/imagenet-sample/);
  });

  it('squeezegate-edge exits 3 naming the model file when models are missing', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'sg-nomodels-'));
    const { code, stderr } = await runCli(
      [EDGE, '--source', datasetDir, '--token', 'x', '--limit', '1'],
      userEnv({ SQUEEZEGATE_MODELS_DIR: empty }),
    );
    expect(code).toBe(3);
    expect(stderr).toMatch(/imagenet-simple-labels\.json not found|squeezenet1\.1\.onnx not found/);
    expect(stderr).toMatch(/models:fetch/);
  });

  it('squeezegate-gateway lists every configuration problem and exits 2', async () => {
    const { code, stderr } = await runCli([GATEWAY, '--port', 'abc', '--device', 'cam-1:short']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/port: /);
    expect(stderr).toMatch(/devices\.0\.token: device tokens need at least 8 characters/);
  });

  it('gateway and edge as separate processes: one JSON line per frame, clean shutdown', async () => {
    const gw = spawn(process.execPath, [GATEWAY, '--port', '0', '--device', 'cam-7:cli-token-777'], {
      cwd: repoRoot,
      env: userEnv(),
    });
    children.push(gw);
    let port = 0;
    for await (const line of createInterface({ input: gw.stdout })) {
      const log = JSON.parse(line);
      if (log.msg === 'gateway listening') {
        port = log.port;
        break;
      }
    }
    expect(port).toBeGreaterThan(0);
    const { code, stdout, stderr } = await runCli([
      EDGE,
      '--gateway',
      `ws://127.0.0.1:${port}/v1/edge`,
      '--device-id',
      'cam-7',
      '--token',
      'cli-token-777',
      '--source',
      datasetDir,
      '--limit',
      '8',
      '--threshold',
      '0.95',
      // Longer than any answer takes, so the cloud's answers count however busy the machine.
      '--deadline-ms',
      '60000',
    ]);
    expect(code, stderr).toBe(0);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(8);
    expect(records.some((r) => r.final.source === 'cloud')).toBe(true);
    expect(stderr).toMatch(/run finished/);
    expect(stderr).not.toMatch(/cli-token-777/); // tokens never reach the logs
    gw.kill('SIGTERM');
    const [exitCode] = await once(gw, 'exit');
    expect(exitCode).toBe(0);
  });
});
