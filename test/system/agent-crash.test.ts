// The agent SIGKILLed while frames wait for the cloud, then started again on the same spool: every
// frame it had taken gets exactly one final result, those that were waiting with their local
// answer (cloud outcome `interrupted`), written by the restarted agent.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FrameRecord } from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { userEnv } from '../support/cli.ts';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');
const TOKEN = 'crash-token-123';

const readRecords = async (file: string): Promise<FrameRecord[]> =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as FrameRecord];
      } catch {
        return []; // the last line, cut by the kill
      }
    });

describe.skipIf(!haveRealModels)('agent crash: SIGKILL mid-stream, restart, no frame lost', () => {
  it('records the frames that were waiting for the cloud after the restart, once each', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-crash-'));
    // Frames wait up to 1 s for a batch of 64: a kill always finds some waiting for the cloud.
    await using gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-k', token: TOKEN }],
        maxBatch: 64,
        maxQueueDelayMs: 1000,
      }),
      logger: testLogger,
    });
    const agent = (out: string, limit: number): ChildProcess =>
      spawn(
        process.execPath,
        [
          EDGE,
          ...['--source', datasetDir, '--limit', String(limit), '--policy', 'always', '--faces', 'off'],
          ...['--gateway', gateway.edgeUrl, '--device-id', 'cam-k', '--token', TOKEN],
          ...['--spool-dir', path.join(dir, 'spool'), '--deadline-ms', '60000', '--max-in-flight', '64'],
          ...['--out', out, '--log-level', 'warn'],
        ],
        { cwd: repoRoot, env: userEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
      );

    // Run 1: killed once it has written a few results and still has frames in flight. Answers come
    // in batches; the kill waits until no result has been written for 300 ms, so that it lands
    // while frames wait for the cloud, not inside the few milliseconds between a burst's records
    // reaching the file and their journal entries being released (a kill there records those
    // frames again after the restart: at least once, see docs/operations.md).
    const first = path.join(dir, 'first.jsonl');
    const one = agent(first, 200);
    const deadline = Date.now() + 120_000;
    let seen = 0;
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const n = (await readRecords(first)).length;
      if (n !== seen) {
        seen = n;
        stableSince = Date.now();
      } else if (n >= 5 && Date.now() - stableSince >= 300) break;
    }
    one.kill('SIGKILL');
    await once(one, 'exit');
    const before = await readRecords(first);
    expect(before.length).toBeGreaterThanOrEqual(5);

    // Run 2, on the same spool: it first writes what run 1 left waiting.
    const second = path.join(dir, 'second.jsonl');
    const two = agent(second, 1);
    let stderr = '';
    two.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const [code] = (await once(two, 'exit')) as [number];
    expect(code, stderr).toBe(0);
    const after = await readRecords(second);
    const recovered = after.filter((r) => r.cloud?.status === 'interrupted');
    expect(recovered.length, 'the kill found frames waiting for the cloud').toBeGreaterThan(0);
    expect(stderr).toMatch(/left waiting for the cloud/);
    for (const r of recovered) {
      expect(r.final).toEqual({ ...r.final, source: 'local' });
      expect(r.final?.index).toBe(r.local?.index);
    }

    // Run 1's frames: each exactly once, with no hole below the last one taken.
    const run1 = [...before, ...recovered];
    const ids = run1.map((r) => r.frameId);
    expect(new Set(ids).size).toBe(ids.length);
    const seqs = run1.map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, k) => k));
  });
});
