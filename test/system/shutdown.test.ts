import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createGateway } from '@squeezegate/gateway';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

describe.skipIf(!haveRealModels)('graceful shutdown of an agent', () => {
  it('on SIGTERM stops capture, finishes the frames in flight and flushes every result', async () => {
    await using gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-s', token: 'shutdown-token-1' }],
        // Answers take ~300 ms, so frames are in flight when the signal comes.
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
        ...['--source', datasetDir, '--fps', '20', '--policy', 'always', '--deadline-ms', '5000'],
      ],
      { cwd: repoRoot, env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir } },
    );
    let stdout = '';
    agent.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    await new Promise((r) => setTimeout(r, 2500));
    const framesIn = gateway.counters().framesIn;
    agent.kill('SIGTERM');
    const [code] = await once(agent, 'exit');
    expect(code).toBe(0);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Capture stopped early (20 fps for ~2.5 s of 1000 frames), and nothing sent was dropped:
    // every frame the gateway saw has its final result, the cloud's.
    expect(records.length).toBeGreaterThan(10);
    expect(records.length).toBeLessThan(200);
    expect(records.length).toBeGreaterThanOrEqual(framesIn);
    expect(new Set(records.map((r) => r.frameId)).size).toBe(records.length);
    expect(records.every((r) => r.final !== null && r.cloud?.status === 'ok')).toBe(true);
  });
});
