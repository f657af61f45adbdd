// The fuzz test's WebSocket clients: each keeps what the gateway said, for a case to wait on.
import { type ServerMessage, ServerMessageSchema } from '@squeezegate/shared';
import WebSocket from 'ws';

/**
 * The longest a case waits for a protocol answer (they come in milliseconds): a hang detector, so
 * generous for a busy machine. Cases return as soon as their answer comes.
 */
export const PROTOCOL_WAIT_MS = 10_000;
/** Frames queue behind the model: the longest a case waits for a frame's answer. */
export const FRAME_WAIT_MS = 30_000;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A ws client that keeps what the gateway said, for a case to wait on. */
export interface Client {
  ws: WebSocket;
  inbox: ServerMessage[];
  /** Messages that are not the protocol's (ServerMessageSchema). */
  stray: string[];
  closed: { code: number } | null;
  until(cond: () => boolean, ms: number): Promise<boolean>;
}

export function openClient(url: string): Promise<Client | null> {
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: PROTOCOL_WAIT_MS });
  const waiters = new Set<() => void>();
  const client: Client = {
    ws,
    inbox: [],
    stray: [],
    closed: null,
    until: (cond, ms) =>
      new Promise<boolean>((resolve) => {
        if (cond()) return resolve(true);
        const timer = setTimeout(() => finish(false), ms);
        const check = () => cond() && finish(true);
        const finish = (v: boolean) => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(v);
        };
        waiters.add(check);
      }),
  };
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  ws.on('error', () => {}); // the close that follows says what happened
  ws.on('message', (data: Buffer) => {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const msg = ServerMessageSchema.safeParse(raw);
    if (msg.success) client.inbox.push(msg.data);
    else client.stray.push(data.toString('utf8').slice(0, 300));
    poke();
  });
  ws.on('close', (code: number) => {
    client.closed = { code };
    poke();
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve(client));
    ws.once('close', () => resolve(null));
  });
}

export const helloText = (d: { id: string; token: string }) =>
  JSON.stringify({ type: 'hello', protocol: 1, deviceId: d.id, token: d.token, agent: 'fuzz' });

export async function authedClient(
  url: string,
  device: { id: string; token: string },
): Promise<Client | null> {
  const c = await openClient(url);
  if (!c) return null;
  c.ws.send(helloText(device));
  const ok = await c.until(
    () => c.closed !== null || c.inbox.some((m) => m.type === 'welcome'),
    PROTOCOL_WAIT_MS,
  );
  if (ok && c.closed === null) return c;
  c.ws.terminate();
  return null;
}
