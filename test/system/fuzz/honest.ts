// The device that does nothing wrong, beside the fuzzer: one real frame every 50 ms.
import { encodeFrame } from '@squeezegate/shared';
import WebSocket from 'ws';
import { authedClient, type Client, sleep } from './client.ts';
import { HONEST_DEVICE } from './plan.ts';

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
        const f =
          m.type === 'welcome' || m.type === 'policy' || m.frameId === undefined
            ? undefined
            : frames.get(m.frameId);
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
