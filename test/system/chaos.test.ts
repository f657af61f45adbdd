import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createEdgeRuntime, type EdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { EdgeConfigSchema } from '@squeezegate/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const GATEWAY_BIN = path.join(repoRoot, 'packages/gateway/bin/squeezegate-gateway.js');
const TOKEN = 'chaos-token-12345';
const FRAMES = 150;
const FPS = 25;
const SPOOL_TTL_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts the gateway as its own process; resolves once it listens. */
async function startGateway(port: number): Promise<{ child: ChildProcess; listeningAt: number }> {
  // Frames wait up to 300 ms for their batch, so a kill always finds some in flight.
  const args = [
    '--port',
    String(port),
    '--device',
    `cam-c:${TOKEN}`,
    '--max-batch',
    '64',
    '--max-queue-delay-ms',
    '300',
  ];
  const child = spawn(process.execPath, [GATEWAY_BIN, ...args], {
    cwd: repoRoot,
    env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir },
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    if (JSON.parse(line).msg === 'gateway listening') return { child, listeningAt: performance.now() };
  }
  throw new Error('gateway exited before listening');
}

/** How long after the gateway listens again the agent's link is open. */
async function recovery(runtime: EdgeRuntime, listeningAt: number): Promise<number> {
  while (runtime.link?.state !== 'open') await sleep(5);
  return performance.now() - listeningAt;
}

describe.skipIf(!haveRealModels)(
  'chaos: the gateway killed and restarted, then out for longer than the spool TTL',
  () => {
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const c of children) c.kill('SIGKILL');
    });

    it('every frame has exactly one final result; none lost or duplicated; recovery under 2 s', async () => {
      const port = await freePort();
      let gw = await startGateway(port);
      children.push(gw.child);
      const records: FrameRecord[] = [];
      await using runtime = await createEdgeRuntime({
        config: EdgeConfigSchema.parse({
          deviceId: 'cam-c',
          token: TOKEN,
          gatewayUrl: `ws://127.0.0.1:${port}/v1/edge`,
          modelsDir,
          policy: { kind: 'always' },
          deadlineMs: 5000,
          maxInFlight: 64,
          reconnect: { baseMs: 100, maxMs: 400 },
          spool: { dir: await mkdtemp(path.join(tmpdir(), 'sg-spool-')), ttlMs: SPOOL_TTL_MS },
          source: { dir: datasetDir, limit: FRAMES, fps: FPS },
        }),
        logger: testLogger,
        onRecord: (r) => records.push(r),
      });
      const streaming = runtime.run();

      // 1. SIGKILL mid-stream, restart at once: frames in flight are resent under their ids.
      await sleep(1200);
      gw.child.kill('SIGKILL');
      await once(gw.child, 'exit');
      gw = await startGateway(port);
      children.push(gw.child);
      const firstRecovery = await recovery(runtime, gw.listeningAt);

      // 2. An outage longer than the spool's time-to-live: the oldest spooled frames expire.
      await sleep(800);
      gw.child.kill('SIGKILL');
      await once(gw.child, 'exit');
      await sleep(SPOOL_TTL_MS + 1000);
      gw = await startGateway(port);
      children.push(gw.child);
      const secondRecovery = await recovery(runtime, gw.listeningAt);

      await streaming;
      const stats = runtime.link!.stats();
      const ids = records.map((r) => r.frameId);
      const byStatus = records.reduce<Record<string, number>>((acc, r) => {
        const s = r.cloud?.status ?? 'none';
        acc[s] = (acc[s] ?? 0) + 1;
        return acc;
      }, {});
      console.log(
        `chaos: ${FRAMES} frames streamed at ${FPS} fps, gateway SIGKILLed twice and restarted; ` +
          `${records.length} final results, ${FRAMES - new Set(ids).size} duplicated, ${FRAMES - records.length} lost; ` +
          `outcomes ${JSON.stringify(byStatus)}; recovery ${firstRecovery.toFixed(0)} ms and ${secondRecovery.toFixed(0)} ms ` +
          `after the gateway listened; ${stats.reconnects} reconnects, ${stats.resent} frames resent, ${stats.late} late answers`,
      );

      expect(records).toHaveLength(FRAMES);
      expect(new Set(ids).size).toBe(FRAMES);
      for (const r of records) {
        expect(r.final, r.frameId).not.toBeNull();
        expect(['ok', 'expired', 'timeout', 'busy']).toContain(r.cloud?.status);
        // A frame without a cloud answer keeps its own.
        if (r.cloud?.status !== 'ok')
          expect(r.final).toMatchObject({ index: r.local!.index, source: 'local' });
      }
      expect(byStatus.ok ?? 0).toBeGreaterThan(FRAMES / 3);
      expect(byStatus.expired ?? 0).toBeGreaterThan(0); // the long outage outlived the TTL
      expect(stats.reconnects).toBeGreaterThanOrEqual(2);
      expect(stats.resent).toBeGreaterThan(0); // in flight at the kill, sent again under the same id
      expect(firstRecovery).toBeLessThan(2000);
      expect(secondRecovery).toBeLessThan(2000);
    });
  },
);
