// The edge follows the fleet (issue 13 §2): an agent process given two gateways, its gateway
// SIGKILLed mid-run with frames in flight. The agent dials the second, resends what the first
// never answered under the same ids, and every frame gets exactly one record, answered by the
// cloud. Nothing here assumes how fast the machine is: each step waits for a state.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot } from '../support/env.ts';
import { type GatewayProcess, killGateway, startGateway, waitFor } from './chaos-support.ts';

const EDGE_BIN = path.join(repoRoot, 'packages/edge/dist/main.js');
const TOKEN = 'failover-token-1234';
const ADMIN = 'failover-admin-token-1234';
const FRAMES = 60;
/** Answers written before the kill: the run is under way, with the first gateway. */
const BEFORE_KILL = 3;
/**
 * Frames wait up to a second for their batch, so that the kill, sent once the first gateway
 * shows frames queued, finds them unanswered; the queue holds more than the agent ever has
 * outstanding, so none is shed as BUSY.
 */
const GATEWAY_ARGS = [
  ...['--device', `cam-f:${TOKEN}`, '--admin-token', ADMIN],
  ...['--max-batch', '64', '--max-queue-delay-ms', '1000', '--max-queue', '1024'],
];

const sample = (metrics: string, series: string): number => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
};

const metricsOf = async (g: GatewayProcess) =>
  (
    await fetch(`http://127.0.0.1:${g.port}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
  ).text();

const readRecords = (file: string): { frameId: string; cloud: { status: string } | null }[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l))
    : [];

describe.skipIf(!haveRealModels)('failover: the agent follows the fleet when its gateway dies', () => {
  const children: ChildProcess[] = [];
  const gateways: GatewayProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const g of gateways) g.child.kill('SIGKILL');
  });

  it('moves to the second gateway; every frame has exactly one record, none lost or duplicated', async () => {
    const [a, b] = await Promise.all([startGateway(GATEWAY_ARGS), startGateway(GATEWAY_ARGS)]);
    gateways.push(a!, b!);
    const urlOf = (g: GatewayProcess) => `ws://127.0.0.1:${g.port}/v1/edge`;
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'sg-failover-')), 'records.jsonl');
    const agent = spawn(
      process.execPath,
      [
        EDGE_BIN,
        ...['--gateway', urlOf(a!), '--gateway', urlOf(b!)],
        ...['--device-id', 'cam-f', '--token', TOKEN, '--source', datasetDir],
        ...['--limit', String(FRAMES), '--fps', '10', '--policy', 'always', '--faces', 'off'],
        // Longer than any wait here: every frame sent waits for the cloud's answer.
        ...['--deadline-ms', '60000', '--out', out, '--log-level', 'info'],
      ],
      { cwd: repoRoot, env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir } },
    );
    children.push(agent);
    let stderr = '';
    agent.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(agent, 'exit');

    const answered = () => readRecords(out).filter((r) => r.cloud?.status === 'ok').length;
    await waitFor(() => answered() >= BEFORE_KILL, 'answers from the first gateway', 120_000);
    // Killed while frames wait in its queue: they were sent and will never be answered there.
    let queued = 0;
    while (queued < 1) {
      queued = sample(await metricsOf(a!), 'squeezegate_queue_depth');
      if (queued < 1) await new Promise((r) => setTimeout(r, 5));
    }
    await killGateway(a!);
    const recordsBeforeKill = readRecords(out).length;
    const [code] = await exited;
    expect(code, stderr.slice(-3000)).toBe(0);

    // Exactly one record per frame, each with the cloud's answer: none lost, none written twice.
    const records = readRecords(out);
    expect(recordsBeforeKill).toBeLessThan(FRAMES);
    expect(records).toHaveLength(FRAMES);
    expect(new Set(records.map((r) => r.frameId)).size).toBe(FRAMES);
    expect(records.filter((r) => r.cloud?.status !== 'ok').map((r) => r.cloud)).toEqual([]);

    // The link left the dead gateway for the second and resent what the first never answered.
    const finished = stderr
      .split('\n')
      .filter((l) => l.includes('"run finished"'))
      .map((l) => JSON.parse(l))[0];
    const link = finished?.link as Record<string, number> | undefined;
    expect(link, stderr.slice(-3000)).toBeDefined();
    expect(link!.failovers).toBeGreaterThanOrEqual(1);
    expect(link!.reconnects).toBeGreaterThanOrEqual(1);
    expect(link!.resent).toBeGreaterThanOrEqual(1);
    expect(stderr).toMatch(new RegExp(`"next":"${urlOf(b!).replace(/[/.]/g, '\\$&')}"`));

    // The second gateway classified each frame it got once: the frames the first left
    // unanswered, and every later one. None came to it twice.
    const metrics = await metricsOf(b!);
    const okAtB = sample(metrics, 'squeezegate_frames_total{outcome="ok"}');
    expect(sample(metrics, 'squeezegate_duplicate_frames_total')).toBe(0);
    // Every frame without a record when the first gateway died was answered by the second.
    expect(okAtB).toBeGreaterThanOrEqual(FRAMES - recordsBeforeKill);
    expect(okAtB).toBeLessThanOrEqual(FRAMES - BEFORE_KILL);
  });
});
