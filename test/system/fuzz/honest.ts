// The device that does nothing wrong, beside the fuzzer: one real frame every 50 ms.
import { encodeFrame } from '@squeezegate/shared';
import WebSocket from 'ws';
import { authedClient, type Client, sleep } from './client.ts';
import { FUZZ_DEVICE, HONEST_DEVICE } from './plan.ts';

export const HONEST_EVERY_MS = 50;
/** How long `stop` waits for answers still due: a generous deadline, not a measure. */
const DRAIN_MS = 60_000;

export interface HonestFrame {
  sentAt: number;
  answeredAt?: number;
  kind?: 'result' | 'shed' | 'error';
  top1?: number | undefined;
  code?: string;
}

/**
 * The device that does nothing wrong: one real frame every 50 ms on its own connection. Frame ids
 * start with `prefix`: the gateway answers a repeated id from memory, so each run needs its own.
 */
export function startHonestDevice(url: string, tench: Buffer, prefix = 'h') {
  const frames = new Map<string, HonestFrame>();
  let closes = 0;
  let client: Client | null = null;
  let seq = 0;
  let stopped = false;
  const attach = async () => {
    const c = await authedClient(url, HONEST_DEVICE);
    client = c;
    // After the client's own listener: the message is parsed and waiting in the inbox.
    c?.ws.on('message', () => {
      for (const m of c.inbox.splice(0)) {
        const f = m.type === 'welcome' || m.frameId === undefined ? undefined : frames.get(m.frameId);
        if (!f || f.answeredAt !== undefined) continue;
        f.answeredAt = performance.now();
        if (m.type === 'result') {
          f.kind = 'result';
          f.top1 = m.top[0]?.index;
        } else if (m.type === 'error') {
          f.kind = m.code === 'BUSY' || m.code === 'RATE_LIMITED' ? 'shed' : 'error';
          f.code = m.code;
        }
      }
    });
    c?.ws.on('close', () => {
      closes++;
      if (!stopped) void attach();
    });
  };
  const ready = attach();
  const timer = setInterval(() => {
    if (client?.ws.readyState !== WebSocket.OPEN) return;
    const frameId = `${prefix}${seq}`;
    frames.set(frameId, { sentAt: performance.now() });
    client.ws.send(
      encodeFrame({ type: 'frame', frameId, seq: seq++, view: 'full', mime: 'image/jpeg' }, tench),
    );
  }, HONEST_EVERY_MS);
  return {
    ready,
    /** Frames sent so far. */
    sent: () => frames.size,
    /** Stops sending, waits for the answers still due, closes. */
    async stop() {
      clearInterval(timer);
      const pending = () => [...frames.values()].some((f) => f.answeredAt === undefined);
      const deadline = performance.now() + DRAIN_MS;
      while (pending() && performance.now() < deadline) await sleep(50);
      stopped = true;
      const unexpectedCloses = closes;
      client?.ws.close();
      return { frames: [...frames.values()], closes: unexpectedCloses };
    },
  };
}

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : Number.NaN;
};

/**
 * The honest device's latencies while the gateway is busy but not attacked: `clients` sessions
 * each send a valid frame and wait for its answer, again and again, while the device sends
 * `frames` frames at its rate. What "in time" means for it during the fuzz storm is derived from
 * this, on the same machine under comparable load, instead of assumed.
 */
export async function calibrateHonest(
  url: string,
  image: Buffer,
  options: { clients: number; frames: number },
): Promise<number[]> {
  let running = true;
  const load = async (k: number) => {
    const c = await authedClient(url, FUZZ_DEVICE);
    if (!c) throw new Error('calibration client refused');
    for (let i = 0; running; i++) {
      const frameId = `cal-${k}-${i}`;
      c.ws.send(encodeFrame({ type: 'frame', frameId, seq: i, view: 'full', mime: 'image/jpeg' }, image));
      await c.until(
        () => c.closed !== null || c.inbox.some((m) => m.type !== 'welcome' && m.frameId === frameId),
        DRAIN_MS,
      );
      c.inbox.length = 0;
    }
    c.ws.close();
  };
  const loading = Promise.all(Array.from({ length: options.clients }, (_, k) => load(k)));
  const honest = startHonestDevice(url, image, 'cal-h');
  await honest.ready;
  const deadline = performance.now() + DRAIN_MS + options.frames * HONEST_EVERY_MS;
  while (honest.sent() < options.frames && performance.now() < deadline) await sleep(HONEST_EVERY_MS);
  const { frames } = await honest.stop();
  running = false;
  await loading;
  return frames.filter((f) => f.answeredAt !== undefined).map((f) => f.answeredAt! - f.sentAt);
}
