// The gateway SIGKILLed twice under a streaming agent: once replaced at once, once replaced only
// after the spool's time-to-live. Nothing here assumes how fast this machine is. The agent dials
// a relay, so the test (not the gateway's start time) decides when an outage ends: the next
// gateway is started beforehand and the relay let through to it. Each step waits for a state,
// with a generous deadline, and every frame's outcome is checked against its own timeline.
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { EdgeConfigSchema } from '@squeezegate/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, testLogger } from '../support/env.ts';
import { createTcpRelay } from '../support/tcp-relay.ts';
import {
  type GatewayProcess,
  killGateway,
  type Outage,
  startGateway,
  waitFor,
  watchLink,
} from './chaos-support.ts';

const TOKEN = 'chaos-token-12345';
const FPS = 25;
const TTL_MS = 2000;
/** Longer than any wait here: a frame sent to the gateway waits for its answer, however slow. */
const DEADLINE_MS = 60_000;
const RECONNECT = { baseMs: 100, maxMs: 400 };
/** Answers counted before each kill, and after the last recovery before the stream stops. */
const STEADY_ANSWERS = 5;
/**
 * Frames wait up to 300 ms for their batch, so a kill right after a send finds them in flight.
 * The queue holds more than the agent ever has outstanding: no frame is shed as BUSY.
 */
const GATEWAY_ARGS = [
  ...['--device', `cam-c:${TOKEN}`, '--max-batch', '64', '--max-queue-delay-ms', '300'],
  ...['--max-queue', '1024'],
];
/** Slack for the test's own clock reads against the agent's (rounded to 0.01 ms). */
const CLOCK_SLACK_MS = 50;

/** A frame's record, with when its cloud request began, taken from the agent's own timings. */
interface Timed {
  r: FrameRecord;
  status: string;
  /** When the agent asked the link (sent or spooled the frame): its record's arrival minus its cloud wait. */
  askedAt: number;
}

describe.skipIf(!haveRealModels)(
  'chaos: the gateway killed and replaced, then out for longer than the spool TTL',
  () => {
    const gateways: GatewayProcess[] = [];
    afterAll(() => {
      for (const g of gateways) g.child.kill('SIGKILL');
    });

    it('every frame has exactly one final result, explained by its own timeline', async () => {
      const start = async () => {
        const g = await startGateway(GATEWAY_ARGS);
        gateways.push(g);
        return g;
      };
      // The agent always dials the relay; the test decides when an outage ends.
      await using relay = await createTcpRelay();
      const spoolDir = await mkdtemp(path.join(tmpdir(), 'sg-spool-'));
      const spooled = () => readdirSync(spoolDir).filter((f) => f.endsWith('.frame')).length;
      let gw = await start();
      relay.to(gw.port);
      const timed: Timed[] = [];
      await using runtime = await createEdgeRuntime({
        config: EdgeConfigSchema.parse({
          deviceId: 'cam-c',
          token: TOKEN,
          gatewayUrl: `ws://127.0.0.1:${relay.port}/v1/edge`,
          modelsDir,
          policy: { kind: 'always' },
          deadlineMs: DEADLINE_MS,
          maxInFlight: 64,
          reconnect: RECONNECT,
          spool: { dir: spoolDir, ttlMs: TTL_MS },
          // The whole sample at 25 fps (40 s): the test stops the stream once it has seen enough.
          source: { dir: datasetDir, fps: FPS },
        }),
        logger: testLogger,
        onRecord: (r) => {
          const askedAt = performance.now() - (r.timings.cloudMs ?? 0);
          timed.push({ r, status: r.cloud?.status ?? 'none', askedAt });
        },
      });
      expect(runtime.link?.state).toBe('open');
      const link = watchLink(runtime);
      const stop = new AbortController();
      const streaming = runtime.run({ signal: stop.signal });
      const okAfter = (t: number) => timed.filter((x) => x.status === 'ok' && x.askedAt > t).length;
      const outages: Outage[] = [];

      /** Kills the gateway right after the agent sends a frame (frames are in flight), relay shut. */
      const kill = async () => {
        const sent = runtime.link!.stats().framesSent;
        await waitFor(() => runtime.link!.stats().framesSent > sent, 'a frame sent');
        relay.to(null);
        const killedAt = await killGateway(gw);
        await waitFor(() => link.seen('down', killedAt) !== null, 'the link to notice the kill');
        return { killedAt, downSeenAt: link.seen('down', killedAt)! };
      };
      /** Lets connections through to the next gateway, once frames wait in the spool. */
      const reopen = async (down: { killedAt: number; downSeenAt: number }, next: GatewayProcess) => {
        await waitFor(() => spooled() >= 3, 'frames in the spool');
        gw = next;
        relay.to(next.port);
        const reopenedAt = performance.now();
        await waitFor(() => link.seen('open', reopenedAt) !== null, 'the link to reopen');
        outages.push({ ...down, reopenedAt, upSeenAt: link.seen('open', reopenedAt)! });
      };

      // 1. Steady state; SIGKILL mid-stream and through to the next gateway as soon as frames
      //    are spooled: frames in flight are resent under their ids, spooled frames sent.
      let next = await start();
      await waitFor(() => okAfter(0) >= STEADY_ANSWERS, 'answers before the first kill');
      await reopen(await kill(), next);

      // 2. Answers again, then an outage that lasts until a spooled frame has expired.
      next = await start();
      await waitFor(() => okAfter(outages[0]!.upSeenAt) >= STEADY_ANSWERS, 'answers after the first restart');
      const down = await kill();
      await waitFor(
        () => timed.some((x) => x.status === 'expired' && x.askedAt > down.downSeenAt),
        'a spooled frame to expire',
      );
      await reopen(down, next);

      // 3. Answers after the last recovery; then the stream stops and every frame settles.
      await waitFor(
        () => okAfter(outages[1]!.upSeenAt) >= STEADY_ANSWERS,
        'answers after the second restart',
      );
      stop.abort();
      await streaming;
      link.stop();
      // Spooled frames sent when the link came back, but expired before their answer: the
      // gateway still answers each of them, late (the agent counts, and keeps its final result).
      const sentThenExpired = timed.filter((x) => x.status === 'expired' && x.r.bytesSent > 0);
      await waitFor(() => runtime.link!.stats().late >= sentThenExpired.length, 'late answers').catch(
        () => {},
      );

      const stats = runtime.link!.stats();
      const byStatus: Record<string, number> = {};
      for (const x of timed) byStatus[x.status] = (byStatus[x.status] ?? 0) + 1;
      const during = (o: Outage, x: Timed) =>
        x.askedAt >= o.killedAt - CLOCK_SLACK_MS && x.askedAt <= o.upSeenAt;
      const fmt = (ms: number) => `${Math.round(ms)} ms`;
      console.log(
        `chaos: ${timed.length} frames at ${FPS} fps, spool TTL ${fmt(TTL_MS)}, gateway start ` +
          `${gateways.map((g) => fmt(g.startMs)).join(' / ')}; outages ${outages.map((o) => fmt(o.upSeenAt - o.killedAt)).join(' and ')}, ` +
          `link open ${outages.map((o) => fmt(o.upSeenAt - o.reopenedAt)).join(' and ')} after the relay reopened; ` +
          `${timed.length} final results, outcomes ${JSON.stringify(byStatus)}; asked during the outages ` +
          `${outages.map((o) => timed.filter((x) => during(o, x)).length).join(' and ')}; ` +
          `${stats.reconnects} reconnects, ${stats.resent} frames resent, ${stats.late} late answers ` +
          `(${sentThenExpired.length} spooled frames sent and expired)`,
      );

      // None lost, none duplicated: one record for each of the source's first frames (stopping
      // the stream ends capture; every frame already taken still gets its result).
      expect(timed.map((x) => x.r.seq).sort((a, b) => a - b)).toEqual([...timed.keys()]);
      expect(new Set(timed.map((x) => x.r.frameId)).size).toBe(timed.length);
      expect(link.drops()).toBe(2);
      for (const x of timed) {
        const { r } = x;
        expect(r.final, r.frameId).not.toBeNull();
        // Within its deadline every frame sent is answered: the cloud's answer, or the spool gave up.
        expect(['ok', 'expired'], r.frameId).toContain(x.status);
        if (x.status !== 'ok')
          expect(r.final, r.frameId).toMatchObject({ index: r.local!.index, source: 'local' });
        // Asked while the link was up: sent, and answered.
        if (!outages.some((o) => during(o, x))) expect(x.status, r.frameId).toBe('ok');
        if (r.cloud?.status === 'expired') expect(r.cloud.afterMs, r.frameId).toBe(TTL_MS);
      }
      for (const [i, o] of outages.entries()) {
        const asked = timed.filter((x) => x.askedAt >= o.downSeenAt && x.askedAt <= o.upSeenAt);
        // Its time-to-live ran out before the relay let anything through: it cannot have been answered.
        const hopeless = asked.filter((x) => x.askedAt + TTL_MS < o.reopenedAt - CLOCK_SLACK_MS);
        expect(
          hopeless.filter((x) => x.status !== 'expired').map((x) => x.r.frameId),
          `outage ${i + 1}`,
        ).toEqual([]);
        // The spool delivers: frames asked while the link was down reached the next gateway.
        expect(asked.filter((x) => x.r.bytesSent > 0).length, `outage ${i + 1}`).toBeGreaterThan(0);
        // The link is back soon after the relay is: the backoff is capped.
        expect(o.upSeenAt - o.reopenedAt, `outage ${i + 1}`).toBeLessThan(RECONNECT.maxMs + 2000);
      }
      // The long outage outlived the time-to-live (the test waited for an expiry).
      expect(timed.some((x) => during(outages[1]!, x) && x.status === 'expired')).toBe(true);
      // Every spooled frame that was sent got an answer, in time (ok) or late; and no other late
      // answers: the gateway answers each id once.
      expect(stats.late).toBe(sentThenExpired.length);
      expect(stats.reconnects).toBeGreaterThanOrEqual(2);
      // Killed right after a send: frames were in flight, and went again under the same id.
      expect(stats.resent).toBeGreaterThan(0);
    });
  },
);
