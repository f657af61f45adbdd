// BUSY backoff (issue 13 §2): a real gateway with room for one frame in its queue sheds a burst;
// the link holds back (full jitter, exponential, capped) instead of resending at once. Nothing
// here measures this machine's speed: the assertions count sends against BUSY answers, and check
// the link's own schedule (no frame leaves while a hold it drew runs), whatever the timings were.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createEdgeRuntime,
  createGatewayLink,
  type FrameRecord,
  type LinkAnswer,
  type LinkTrace,
} from '@squeezegate/edge';
import { EdgeConfigSchema } from '@squeezegate/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, testLogger } from '../support/env.ts';
import { type GatewayProcess, startGateway } from './chaos-support.ts';

const TOKEN = 'busy-token-12345';
const FLOOD_TOKEN = 'flood-token-12345';
const ADMIN = 'busy-admin-token-12345';
const BURST = 24;
const BUSY_BACKOFF = { baseMs: 20, maxMs: 320 };
/** One inference at a time and one frame waiting: a burst is shed, whatever the machine. */
const GATEWAY_ARGS = [
  ...['--device', `cam-b:${TOKEN}`, '--device', `cam-flood:${FLOOD_TOKEN}`, '--admin-token', ADMIN],
  ...['--max-batch', '1', '--max-queue', '1', '--workers', '1'],
];

const sample = (metrics: string, series: string): number => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
};

async function images(n: number): Promise<Buffer[]> {
  const files = (await readdir(datasetDir)).filter((f) => f.endsWith('.jpg')).slice(0, n);
  return Promise.all(files.map((f) => readFile(path.join(datasetDir, f))));
}

describe.skipIf(!haveRealModels)('BUSY: the link backs off with jitter instead of resending at once', () => {
  const gateways: GatewayProcess[] = [];
  afterAll(() => {
    for (const g of gateways) g.child.kill('SIGKILL');
  });
  const start = async () => {
    const g = await startGateway(GATEWAY_ARGS);
    gateways.push(g);
    return g;
  };
  const header = (run: string, k: number) => ({
    type: 'frame' as const,
    frameId: `${run}-${k}`,
    seq: k,
    view: 'full' as const,
    mime: 'image/jpeg' as const,
  });

  it('every BUSY frame is resent once, after the hold; nothing leaves during a hold; all answered', async () => {
    const gw = await start();
    const trace: LinkTrace[] = [];
    const link = await createGatewayLink({
      url: `ws://127.0.0.1:${gw.port}/v1/edge`,
      deviceId: 'cam-b',
      token: TOKEN,
      logger: testLogger,
      busyBackoff: BUSY_BACKOFF,
      // The top of each window: every hold is its ceiling, base · 2^n, and can be checked exactly.
      random: () => 1,
      trace: (e) => trace.push(e),
    });
    expect(link.state).toBe('open');
    const jpegs = await images(BURST);
    // Deadlines far beyond the run: every frame ends with the cloud's answer.
    const answers = await Promise.all(
      jpegs.map((jpeg, k) => link.request(header('burst', k), jpeg, { deadlineMs: 120_000 })),
    );
    const stats = link.stats();
    await link.close();

    expect(answers.map((a) => a.answer.kind)).toEqual(Array(BURST).fill('result'));
    const sends = trace.filter((e): e is Extract<LinkTrace, { kind: 'sent' }> => e.kind === 'sent');
    const busy = trace.filter((e): e is Extract<LinkTrace, { kind: 'busy' }> => e.kind === 'busy');
    // The gateway shed part of the burst, and every BUSY it sent reached the link.
    expect(busy.length).toBeGreaterThan(0);
    expect(stats.busy).toBe(busy.length);
    const metrics = await (
      await fetch(`http://127.0.0.1:${gw.port}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    expect(sample(metrics, 'squeezegate_frames_total{outcome="BUSY"}')).toBe(busy.length);
    expect(sample(metrics, 'squeezegate_frames_total{outcome="ok"}')).toBe(BURST);

    // Resends against BUSY answers: each frame was sent once, plus once per BUSY it got; no
    // resend without a BUSY, none lost.
    for (let k = 0; k < BURST; k++) {
      const id = `burst-${k}`;
      expect(sends.filter((s) => s.frameId === id).length).toBe(
        1 + busy.filter((b) => b.frameId === id).length,
      );
    }
    expect(stats.resent).toBe(busy.length);
    expect(sends.filter((s) => s.resend).length).toBe(busy.length);

    // One hold per overload: BUSY answers for frames already in flight fell in the running hold.
    const holds = busy.filter((b) => b.heldMs !== null);
    expect(stats.backoffs).toBe(holds.length);
    expect(holds.length).toBeGreaterThanOrEqual(1);
    expect(holds.length).toBeLessThan(busy.length);
    const ceilings = [0, 1, 2, 3, 4, 5].map((n) =>
      Math.min(BUSY_BACKOFF.maxMs, BUSY_BACKOFF.baseMs * 2 ** n),
    );
    for (const h of holds) expect(ceilings).toContain(h.heldMs);

    // Spaced: no frame left while a hold ran (the link's own clock; `until` is the hold's end).
    for (const h of holds) {
      const during = sends.filter((s) => s.at > h.at && s.at < h.until);
      expect(during, `sends during the hold drawn at ${h.at}`).toEqual([]);
    }
    // And each resend came after the BUSY that asked for it, never at once.
    for (const s of sends.filter((x) => x.resend)) {
      const lastBusy = busy.filter((b) => b.frameId === s.frameId && b.at < s.at).at(-1)!;
      expect(s.at).toBeGreaterThanOrEqual(lastBusy.until);
    }
  });

  it('a frame whose deadline ends within the hold keeps its local answer: BUSY, not resent', async () => {
    const gw = await start();
    const trace: LinkTrace[] = [];
    const link = await createGatewayLink({
      url: `ws://127.0.0.1:${gw.port}/v1/edge`,
      deviceId: 'cam-b',
      token: TOKEN,
      logger: testLogger,
      // A hold far longer than the deadline.
      busyBackoff: { baseMs: 600_000, maxMs: 600_000 },
      random: () => 1,
      trace: (e) => trace.push(e),
    });
    const jpegs = await images(BURST);
    const first = await Promise.all(
      jpegs.map((jpeg, k) => link.request(header('short', k), jpeg, { deadlineMs: 60_000 })),
    );
    const kinds = (xs: { answer: LinkAnswer }[]) => xs.map((a) => a.answer.kind);
    const shed = first.filter((a) => a.answer.kind === 'error');
    expect(shed.length).toBeGreaterThan(0);
    for (const a of shed) expect(a.answer).toMatchObject({ kind: 'error', code: 'BUSY' });
    expect(kinds(first).filter((k) => k !== 'error' && k !== 'result')).toEqual([]);
    // Nothing resent: each BUSY frame settled at once with its BUSY, its deadline inside the hold.
    expect(link.stats().resent).toBe(0);
    // While the hold runs a new frame is not sent at all: it keeps its local answer at once.
    const sentBefore = link.stats().framesSent;
    const held = await link.request(header('held', 0), jpegs[0]!, { deadlineMs: 60_000 });
    expect(held.answer).toMatchObject({ kind: 'error', code: 'BUSY' });
    expect(held.bytesSent).toBe(0);
    expect(link.stats().framesSent).toBe(sentBefore);
    await link.close();
  });

  it('an agent shed by the gateway records every frame once: the cloud answer, or busy with its local one', async () => {
    const gw = await start();
    const FRAMES = 40;
    const records: FrameRecord[] = [];
    await using runtime = await createEdgeRuntime({
      config: EdgeConfigSchema.parse({
        deviceId: 'cam-b',
        token: TOKEN,
        gatewayUrl: `ws://127.0.0.1:${gw.port}/v1/edge`,
        modelsDir,
        policy: { kind: 'always' },
        privacy: { faces: 'off' },
        maxInFlight: 16,
        deadlineMs: 1000,
        busyBackoff: { baseMs: 20, maxMs: 200 },
        source: { dir: datasetDir, limit: FRAMES },
      }),
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    // Another device keeps the gateway's one queue slot taken, so that the agent is shed
    // whatever the speed of its own model against the gateway's.
    const flood = await createGatewayLink({
      url: `ws://127.0.0.1:${gw.port}/v1/edge`,
      deviceId: 'cam-flood',
      token: FLOOD_TOKEN,
      logger: testLogger,
      busyBackoff: { baseMs: 1, maxMs: 1 },
    });
    const [jpeg] = await images(1);
    let flooding = true;
    let n = 0;
    const lanes = Array.from({ length: 8 }, async () => {
      while (flooding) await flood.request(header('flood', n++), jpeg!, { deadlineMs: 10_000 });
    });
    await runtime.run();
    flooding = false;
    await Promise.all(lanes);
    await flood.close();
    const stats = runtime.link!.stats();
    expect(records).toHaveLength(FRAMES);
    expect(new Set(records.map((r) => r.frameId)).size).toBe(FRAMES);
    const statuses = new Set(records.map((r) => r.cloud?.status));
    for (const status of statuses) expect(['ok', 'busy', 'timeout']).toContain(status);
    for (const r of records.filter((x) => x.cloud?.status === 'busy')) expect(r.final?.source).toBe('local');
    for (const r of records.filter((x) => x.cloud?.status === 'ok')) expect(r.final?.source).toBe('cloud');
    // A frame is sent again only after a BUSY, at most once per BUSY.
    expect(stats.busy).toBeGreaterThan(0);
    expect(stats.resent).toBeLessThanOrEqual(stats.busy);
    expect(stats.backoffs).toBeLessThanOrEqual(stats.busy);
  });
});
