import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createGateway } from '@squeezegate/gateway';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveRealModels)('graceful shutdown of an agent', () => {
  it('on SIGTERM stops capture, finishes the frames in flight and flushes every result', async () => {
    await using gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-s', token: 'shutdown-token-1' }],
        // Answers wait up to 300 ms for their batch, so frames are in flight when the signal comes.
        maxBatch: 64,
        maxQueueDelayMs: 300,
      }),
      logger: testLogger,
    });
    const agent = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'packages/edge/dist/main.js'),
        ...['--gateway', gateway.edgeUrl, '--device-id', 'cam-s', '--token', 'shutdown-token-1'],
        ...['--source', datasetDir, '--fps', '20', '--policy', 'always', '--deadline-ms', '60000'],
      ],
      { cwd: repoRoot, env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir } },
    );
    let stdout = '';
    agent.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = once(agent, 'exit');
    // Mid-stream, however long the agent took to start: once it has written some results.
    const lines = () => stdout.split('\n').length - 1;
    const deadline = performance.now() + 120_000;
    while (lines() < 10 && agent.exitCode === null && performance.now() < deadline) await sleep(20);
    expect(lines(), 'results before the signal').toBeGreaterThanOrEqual(10);
    const framesIn = gateway.counters().framesIn;
    agent.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Capture stopped early (the source has over a thousand frames, 50 s at 20 fps), and nothing
    // sent was dropped: every frame the gateway saw has its final result, the cloud's.
    expect(records.length).toBeGreaterThanOrEqual(10);
    expect(records.length).toBeLessThan((await readdir(datasetDir)).filter((f) => f.endsWith('.jpg')).length);
    expect(records.length).toBeGreaterThanOrEqual(framesIn);
    expect(new Set(records.map((r) => r.frameId)).size).toBe(records.length);
    expect(records.every((r) => r.final !== null && r.cloud?.status === 'ok')).toBe(true);
  });
});
