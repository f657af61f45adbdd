// Issue 13 §5: a real gateway process with a fleet budget and three real agent processes. The
// gateway sends every agent its offload bar; each agent applies it and its frame records say so.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot } from '../support/env.ts';

const GATEWAY_BIN = path.join(repoRoot, 'packages/gateway/dist/main.js');
const EDGE_BIN = path.join(repoRoot, 'packages/edge/dist/main.js');
const DEVICES = ['fleet-a', 'fleet-b', 'fleet-c'].map((id) => ({ id, token: `${id}-token-0123456789` }));
const env = { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir };

interface Record {
  seq: number;
  decision: {
    kind: string;
    reason: string;
    value?: number;
    threshold?: number;
    fleet?: { seq: number; reason: string };
  };
}

const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The gateway on a free port; resolves once it logs that it listens. */
async function startGateway(args: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [GATEWAY_BIN, '--port', '0', ...args], { cwd: repoRoot, env });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = (() => {
      try {
        return JSON.parse(line) as { msg?: string; port?: number };
      } catch {
        return {};
      }
    })();
    if (entry.msg === 'gateway listening' && typeof entry.port === 'number')
      return { child, port: entry.port };
  }
  throw new Error(`gateway exited before listening: ${stderr}`);
}

/** One agent over the sample set; resolves with its frame records once it has written them all. */
async function runAgent(url: string, device: { id: string; token: string }): Promise<Record[]> {
  const child = spawn(
    process.execPath,
    [
      EDGE_BIN,
      ...['--gateway', url, '--device-id', device.id, '--token', device.token],
      ...['--source', datasetDir, '--limit', '48', '--fps', '4', '--deadline-ms', '30000'],
      ...['--faces', 'off', '--log-level', 'warn'],
    ],
    { cwd: repoRoot, env },
  );
  children.push(child);
  const records: Record[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines = (async () => {
    for await (const line of createInterface({ input: child.stdout! })) records.push(JSON.parse(line));
  })();
  const [code] = await once(child, 'exit');
  await lines;
  if (code !== 0) throw new Error(`agent ${device.id} exited with ${code}: ${stderr}`);
  return records;
}

describe.skipIf(!haveRealModels)("fleet budget: the gateway sets every agent's offload bar", () => {
  it('three agents receive the bar, apply it and record it; the bar falls toward the budget', async () => {
    // 3 agents × 4 frames/s against half a cloud frame/s: the bar must come down from its start (0.5).
    const gateway = await startGateway([
      ...DEVICES.flatMap((d) => ['--device', `${d.id}:${d.token}`]),
      ...['--fleet-budget-cloud-fps', '0.5', '--fleet-interval-ms', '250'],
    ]);
    const url = `ws://127.0.0.1:${gateway.port}/v1/edge`;
    const all = await Promise.all(DEVICES.map((d) => runAgent(url, d)));
    gateway.child.kill('SIGTERM');
    await once(gateway.child, 'exit');

    for (const [i, records] of all.entries()) {
      expect(records, DEVICES[i]!.id).toHaveLength(48);
      const ruled = records.filter((r) => r.decision.fleet !== undefined);
      // Every agent heard the gateway: its frames after the first bar were decided by it.
      expect(ruled.length, DEVICES[i]!.id).toBeGreaterThan(0);
      for (const r of ruled) {
        expect(r.decision.reason).toMatch(/^fleet bar: maxProb /);
        expect(r.decision.fleet!.reason).toMatch(/^fleet .*\/0\.5 fps/);
        // The record is consistent with the bar it names: below it goes, at or above stays.
        expect(r.decision.kind).toBe(r.decision.value! < r.decision.threshold! ? 'offload' : 'local');
      }
      // Frames are decided in capture order, and a bar never replaces a newer one.
      const seqs = ruled.toSorted((a, b) => a.seq - b.seq).map((r) => r.decision.fleet!.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    }
    const bars = all.flat().flatMap((r) => (r.decision.fleet ? [r.decision.threshold!] : []));
    // The fleet offered more than its budget, so the controller lowered the bar below where it began.
    expect(Math.min(...bars)).toBeLessThan(0.5);
  });
});
