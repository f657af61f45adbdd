// Clients below the ws library: HTTP and WebSocket framing by hand, and connections that leave
// at awkward moments.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { authedClient, helloText, openClient, PROTOCOL_WAIT_MS, sleep } from './client.ts';
import type { Outcome } from './judge.ts';
import { type ChurnPlan, type Expect, FUZZ_DEVICE, type RawPlan } from './plan.ts';

/** Speaks HTTP and WebSocket framing by hand: half requests, lying lengths, unmasked frames. */
export async function runRaw(port: number, plan: RawPlan, expected: Expect | null): Promise<Outcome> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let buf = Buffer.alloc(0);
  let ended = false;
  const waiters = new Set<() => void>();
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (const w of [...waiters]) w();
  });
  socket.on('close', () => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  const until = (cond: () => boolean, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      }
      const check = () => (cond() || ended) && done();
      waiters.add(check);
      check();
    });
  try {
    await Promise.race([once(socket, 'connect'), sleep(PROTOCOL_WAIT_MS)]);
    const { method = 'GET', path, version } = plan.request;
    const request =
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\n\r\n`;
    if (plan.request.partial) {
      socket.write(request.slice(0, request.length >> 1));
      socket.destroy();
      return { kind: 'done' };
    }
    socket.write(request);
    await until(() => buf.includes('\r\n\r\n'), PROTOCOL_WAIT_MS);
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return { kind: 'hang', detail: 'no HTTP response' };
    const status = Number(buf.subarray(0, headEnd).toString('latin1').split(' ')[1]);
    if (status !== 101) return { kind: 'http', status };
    if (plan.frames.length > 0) socket.write(Buffer.concat(plan.frames));
    if (plan.end === 'destroy') {
      socket.destroy();
      return { kind: 'done' };
    }
    if (plan.end === 'end') socket.end();
    const frames = () => serverFrames(buf.subarray(headEnd + 4));
    const welcomed = () => frames().texts.some((t) => t.includes('"type":"welcome"'));
    await until(
      () => frames().close !== null || (expected?.welcome === true && welcomed()),
      PROTOCOL_WAIT_MS,
    );
    const { close } = frames();
    if (expected?.welcome && welcomed()) return { kind: 'welcome' };
    if (close !== null) return { kind: 'closed', close };
    if (ended) return { kind: 'closed', close: 1006 };
    return { kind: 'hang', detail: `socket open ${PROTOCOL_WAIT_MS} ms after ${plan.end}` };
  } finally {
    socket.destroy();
  }
}

/** The server's frames (unmasked): its text messages and the close code, if it sent one. */
function serverFrames(data: Buffer): { texts: string[]; close: number | null } {
  const texts: string[] = [];
  for (let at = 0; at + 2 <= data.length; ) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let head = 2;
    if (length === 126) {
      if (at + 4 > data.length) break;
      length = data.readUInt16BE(at + 2);
      head = 4;
    } else if (length === 127) {
      if (at + 10 > data.length) break;
      length = Number(data.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (at + head + length > data.length) break;
    const payload = data.subarray(at + head, at + head + length);
    if (opcode === 1) texts.push(payload.toString('utf8'));
    if (opcode === 8) return { texts, close: payload.length >= 2 ? payload.readUInt16BE(0) : 1005 };
    at += head + length;
  }
  return { texts, close: null };
}

/** Connections that go away at awkward moments; only the gateway's survival is judged (at the end). */
export async function runChurn(url: string, plan: ChurnPlan): Promise<Outcome> {
  if (plan.kind === 'abort-connecting') {
    const ws = new WebSocket(url);
    ws.on('error', () => {}); // "closed before the connection was established": the point
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.terminate();
    await closed;
    return { kind: 'done' };
  }
  // Only these two wait for the welcome: the others leave before or while the hello is handled.
  const welcomed = plan.kind === 'terminate-mid-send' || plan.kind === 'close-with-frames-in-flight';
  const c = welcomed ? await authedClient(url, FUZZ_DEVICE) : await openClient(url);
  if (!c) return { kind: 'hang', detail: 'could not connect' };
  if (plan.kind === 'close-after-hello') c.ws.send(helloText(FUZZ_DEVICE));
  switch (plan.kind) {
    case 'idle-terminate':
      await sleep(plan.afterMs);
      c.ws.terminate();
      return { kind: 'done' };
    case 'terminate-mid-send':
      c.ws.send(plan.frame);
      c.ws.terminate();
      return { kind: 'done' };
    case 'close-after-hello':
    case 'close-with-frames-in-flight': {
      if (plan.kind === 'close-with-frames-in-flight') for (const f of plan.frames) c.ws.send(f);
      c.ws.close(1000);
      // The gateway must answer a close (RFC 6455 §5.5.1), frames in flight or not.
      const acked = await c.until(() => c.closed !== null, PROTOCOL_WAIT_MS);
      if (!acked) c.ws.terminate();
      return acked ? { kind: 'done' } : { kind: 'hang', detail: 'close not answered' };
    }
  }
}
