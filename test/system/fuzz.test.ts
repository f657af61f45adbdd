// A live gateway (real model, port 0) against ten thousand malformed, truncated, oversized and
// mutated messages and images, while an honest device keeps sending a real frame every 50 ms.
// Every case is rebuilt from SEED and its index (fuzz/cases.ts), so a failure names what to replay.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import { encodeFrame, GatewayConfigSchema } from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, testLogger } from '../support/env.ts';
import { buildAssets } from './fuzz/assets.ts';
import { makeCase, schedule } from './fuzz/cases.ts';
import { authedClient, type Client, FRAME_WAIT_MS, openClient, sleep } from './fuzz/client.ts';
import { quantile, startHonestDevice } from './fuzz/honest.ts';
import { exchange, judge, type Outcome } from './fuzz/judge.ts';
import {
  type Assets,
  type Category,
  type Expect,
  FUZZ_DEVICE,
  type FuzzCase,
  HONEST_DEVICE,
  MAX_PAYLOAD,
  PLAN,
  SEED,
} from './fuzz/plan.ts';
import { runChurn, runRaw } from './fuzz/raw.ts';

/** Cases in flight at once: enough to overlap decodes with protocol work on 2 cores. */
const WORKERS = 6;
/** The edge agent's default deadline: the share of honest answers within it is reported. */
const HONEST_DEADLINE_MS = 1_000;
/**
 * No case finished for this long: the gateway hangs, and no new case starts, so the run fails with
 * a report rather than a timeout. (A case waits at most FRAME_WAIT_MS for its answers.) The run
 * itself takes as long as this machine needs for every case.
 */
const STALL_MS = 4 * FRAME_WAIT_MS;
const MB = 1024 * 1024;

/** `gc` even when node was started without --expose-gc. */
function forceGc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    return true;
  }
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as (() => void) | undefined;
  fn?.();
  return fn !== undefined;
}

describe.skipIf(!haveRealModels)('fuzz: a live gateway against malformed everything', () => {
  let gateway: Gateway;
  let assets: Assets;

  beforeAll(async () => {
    assets = await buildAssets(datasetDir);
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        maxPayloadBytes: MAX_PAYLOAD,
        devices: [FUZZ_DEVICE, HONEST_DEVICE].map(({ id, token }) => ({ id, token })),
        // Generous: the limits run, but the fuzzer's parallel sessions never hit them.
        maxConnectionsPerDevice: 64,
        maxFramesPerSecond: 100_000,
      }),
      logger: testLogger,
    });
  });
  // Bounded: a gateway that cannot close is reported by the last test, not by a stuck hook.
  afterAll(() => gateway && Promise.race([gateway.close(), sleep(10_000)]));

  it('answers every case as the protocol says, never crashes, keeps serving the honest device', async () => {
    const crashes: string[] = [];
    const onCrash = (err: unknown) =>
      crashes.push(
        err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 5).join(' | ') : String(err),
      );
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);

    // Warm the model and the allocators before the baseline, so first-use arenas do not count as growth.
    const warm = await authedClient(gateway.edgeUrl, HONEST_DEVICE);
    expect(warm).not.toBeNull();
    warm!.ws.send(
      encodeFrame({ type: 'frame', frameId: 'warm', seq: 0, view: 'full', mime: 'image/jpeg' }, assets.tench),
    );
    await warm!.until(() => warm!.inbox.some((m) => m.type === 'result'), FRAME_WAIT_MS);
    warm!.ws.close();
    forceGc();
    const rssStart = process.memoryUsage().rss;
    let rssPeak = rssStart;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 50);

    const started = performance.now();
    const honest = startHonestDevice(gateway.edgeUrl, assets.tench);
    await honest.ready;

    const order = schedule(SEED);
    const tried = Object.fromEntries(Object.keys(PLAN).map((c) => [c, 0])) as Record<Category, number>;
    const outcomes: Record<string, number> = {};
    const frameAnswers: Record<string, number> = {};
    const spent = Object.fromEntries(Object.keys(PLAN).map((c) => [c, 0])) as Record<Category, number>;
    const violations: string[] = [];
    let messages = 0;
    let next = 0;
    let progressAt = performance.now();

    const worker = async () => {
      let session: Client | null = null;
      while (next < order.length && performance.now() - progressAt < STALL_MS) {
        const index = next++;
        const c: FuzzCase = makeCase(SEED, index, order[index]!, assets);
        tried[c.category]++;
        const caseStarted = performance.now();
        let outcome: Outcome;
        let expected: Expect | null = null;
        if (c.stage === 'raw') {
          expected = c.expect;
          messages += Math.max(1, c.raw.frames.length);
          outcome = await runRaw(gateway.port, c.raw, c.expect);
        } else if (c.stage === 'churn') {
          messages++;
          outcome = await runChurn(gateway.edgeUrl, c.churn);
        } else {
          expected = c.expect;
          messages += c.send.length;
          if (c.stage === 'session' && (!session || session.closed)) {
            session = await authedClient(gateway.edgeUrl, FUZZ_DEVICE);
          }
          const client: Client | null = c.stage === 'fresh' ? await openClient(gateway.edgeUrl) : session;
          outcome = client
            ? await exchange(client, c.send, c.expect, `probe-${index}`)
            : { kind: 'hang', detail: 'could not open a connection' };
          if (client?.stray.length) {
            violations.push(`#${index} ${c.category}/${c.note}: outside the protocol: ${client.stray[0]}`);
          }
          // A session goes on after answers and silence; after anything else it is replaced.
          if (client && (c.stage === 'fresh' || (outcome.kind !== 'answered' && outcome.kind !== 'silent'))) {
            client.ws.terminate();
            if (client === session) session = null;
          }
          if (client) client.inbox.length = client.stray.length = 0;
        }
        const label =
          outcome.kind === 'refused'
            ? `refused ${outcome.code}/${outcome.close}`
            : outcome.kind === 'closed'
              ? `closed ${outcome.close}`
              : outcome.kind;
        outcomes[label] = (outcomes[label] ?? 0) + 1;
        if (outcome.kind === 'answered') {
          for (const m of outcome.answers) {
            const k = m.type === 'error' ? m.code : m.type;
            frameAnswers[k] = (frameAnswers[k] ?? 0) + 1;
          }
        }
        spent[c.category] += performance.now() - caseStarted;
        progressAt = performance.now();
        const wrong = expected
          ? judge(expected, outcome)
          : outcome.kind === 'hang'
            ? `hang: ${outcome.detail}`
            : null;
        if (wrong)
          violations.push(
            `#${index} ${c.category}/${c.note}: ${wrong}; expected ${JSON.stringify(expected)}`,
          );
      }
      session?.ws.close();
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    const fuzzMs = performance.now() - started;
    const h = await honest.stop();
    clearInterval(sampler);

    // Every fuzz and honest connection is gone: the gateway must have let go of each session.
    const deadline = performance.now() + 30_000;
    while (gateway.counters().devicesConnected > 0 && performance.now() < deadline) await sleep(50);
    const leaked = gateway.counters().devicesConnected;
    const healthz = await fetch(`${gateway.url}/healthz`);
    const after = await authedClient(gateway.edgeUrl, HONEST_DEVICE);
    after?.ws.send(
      encodeFrame(
        { type: 'frame', frameId: 'after', seq: 0, view: 'full', mime: 'image/jpeg' },
        assets.tench,
      ),
    );
    await after?.until(() => after.inbox.some((m) => m.type === 'result'), FRAME_WAIT_MS);
    const afterResult = after?.inbox.find((m) => m.type === 'result');
    after?.ws.close();
    const gcRan = forceGc();
    await sleep(200);
    const rssEnd = process.memoryUsage().rss;
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);

    const answered = h.frames.filter((f) => f.answeredAt !== undefined);
    const results = h.frames.filter((f) => f.kind === 'result');
    const shed = h.frames.filter((f) => f.kind === 'shed').length;
    const latencies = answered.map((f) => f.answeredAt! - f.sentAt);
    // Within the edge's deadline: reported, not asserted (it measures this machine's speed).
    const withinDeadline = results.filter((f) => f.answeredAt! - f.sentAt <= HONEST_DEADLINE_MS).length;
    // Served throughout: the longest the device waited for an answer, and the longest stretch of
    // the storm in which none of its results came (from its first frame to the storm's end).
    const maxWait = Math.max(...latencies);
    const arrivals = [started, ...results.map((f) => f.answeredAt!).sort((a, b) => a - b)];
    const stormEnd = started + fuzzMs;
    const longestSilence = Math.max(
      ...arrivals.map((t, i) => Math.min(arrivals[i + 1] ?? stormEnd, stormEnd) - Math.min(t, stormEnd)),
    );
    const total = Object.values(tried).reduce((a, b) => a + b, 0);
    if (violations.length > 0) {
      // Grouped by what went wrong, one example each: the report a failing run is read by.
      const groups = new Map<string, { n: number; example: string }>();
      for (const v of violations) {
        const key = v
          .replace(/^#\d+ /, '')
          .replace(/; expected .*$/, '')
          .replace(/\d+/g, 'N')
          .slice(0, 160);
        const g = groups.get(key) ?? { n: 0, example: v };
        g.n++;
        groups.set(key, g);
      }
      const top = [...groups.values()].sort((a, b) => b.n - a.n).slice(0, 40);
      console.log(
        `fuzz violations by kind:\n${top.map((g) => `${String(g.n).padStart(5)}  ${g.example.slice(0, 400)}`).join('\n')}`,
      );
    }
    if (crashes.length > 0)
      console.log(`fuzz crashes (first 5 of ${crashes.length}):\n${crashes.slice(0, 5).join('\n')}`);
    console.log(
      `fuzz: ${total} cases, ${messages} messages in ${(fuzzMs / 1000).toFixed(1)} s ` +
        `(${Object.entries(tried)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}); ` +
        `case-seconds ${Object.entries(spent)
          .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`)
          .join(', ')}; ` +
        `outcomes ${Object.entries(outcomes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; ` +
        `frame answers ${Object.entries(frameAnswers)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; ` +
        `violations ${violations.length}, crashes ${crashes.length}, leaked sessions ${leaked}; ` +
        `honest ${h.frames.length} frames: ${results.length} results, ` +
        `${((withinDeadline / h.frames.length) * 100).toFixed(1)} % within ${HONEST_DEADLINE_MS} ms, ` +
        `longest wait ${maxWait.toFixed(0)} ms, longest silence ${longestSilence.toFixed(0)} ms, ` +
        `shed ${shed}, unanswered ${h.frames.length - answered.length}, ` +
        `p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms, ` +
        `max ${quantile(latencies, 1).toFixed(0)} ms; ` +
        `RSS start ${(rssStart / MB).toFixed(0)} MB, peak ${(rssPeak / MB).toFixed(0)} MB (+${((rssPeak - rssStart) / MB).toFixed(0)}), ` +
        `end ${(rssEnd / MB).toFixed(0)} MB after ${gcRan ? 'gc' : 'no gc'}`,
    );

    expect(crashes).toEqual([]);
    expect(violations.slice(0, 20)).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(tried).toEqual(PLAN);
    expect(leaked).toBe(0);
    expect(healthz.status).toBe(200);
    expect(afterResult?.type === 'result' && afterResult.top[0]?.index).toBe(0);
    // The honest device: never dropped, every frame answered (a result, or BUSY when the fuzzer's
    // decodable images fill the queue: shed by design, answered but not served), every result the
    // tench, and served throughout: no frame of it waited, and no stretch of the storm passed
    // without one of its results, as long as a fuzz frame may wait for its own (a decoder held by
    // a bomb, or a queue that lets the fuzzer in first, starves it however fast the machine). How
    // many answers came within the edge's deadline is this machine's speed: reported above.
    expect(h.closes).toBe(0);
    expect(h.frames.length).toBeGreaterThan(100);
    expect(answered.length).toBe(h.frames.length);
    expect(h.frames.filter((f) => f.kind === 'error').map((f) => f.code)).toEqual([]);
    expect(results.every((f) => f.top1 === 0)).toBe(true);
    expect(maxWait).toBeLessThan(FRAME_WAIT_MS);
    expect(longestSilence).toBeLessThan(FRAME_WAIT_MS);
    // Memory: sharp's caches and onnxruntime's arenas grow some; a decode bomb or a queue without
    // bound grows far more. The process holds the clients too.
    expect(rssPeak - rssStart).toBeLessThan(300 * MB);
    expect(rssEnd - rssStart).toBeLessThan(200 * MB);
  }, 1_200_000);

  it('then shuts down: no session left behind that close() would wait for', async () => {
    // A generous deadline, not a measure: a session left behind makes close() wait forever.
    const closed = await Promise.race([gateway.close().then(() => true), sleep(60_000).then(() => false)]);
    expect(closed).toBe(true);
  });
});
