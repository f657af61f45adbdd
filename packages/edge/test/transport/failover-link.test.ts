// The link across several gateways, on real sockets: one port with nothing listening, one that
// fails the WebSocket handshake, and two WebSocket servers speaking the protocol, one of which
// stops answering and dies. These servers show the bytes the link sends, which the real gateway
// (test/system/failover.test.ts) cannot: a resent frame must be the same envelope, byte for byte.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayLink, type LinkTrace } from '@squeezegate/edge';
import { decodeFrame, PROTOCOL_VERSION } from '@squeezegate/shared';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';

const logger = pino({ level: 'silent' });
const RECONNECT = { baseMs: 10, maxMs: 40 };

interface Received {
  frameId: string;
  bytes: Buffer;
}

/** A WebSocket server that welcomes the device, keeps every frame it gets, and answers if told to. */
async function protocolServer(options: { answer: boolean }) {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const frames: Received[] = [];
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('error', () => {});
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        const hello = JSON.parse(data.toString());
        ws.send(
          JSON.stringify({
            type: 'welcome',
            protocol: PROTOCOL_VERSION,
            deviceId: hello.deviceId,
            cloudModel: 'test-model',
            maxPayloadBytes: 1 << 20,
          }),
        );
        return;
      }
      const decoded = decodeFrame(Buffer.from(data));
      if (!decoded.ok) throw new Error(decoded.error);
      const { frameId } = decoded.value.header;
      frames.push({ frameId, bytes: Buffer.from(data) });
      if (options.answer)
        ws.send(
          JSON.stringify({
            type: 'result',
            frameId,
            model: 'test-model',
            top: [{ index: 1, label: 'one', p: 0.9 }],
            inferMs: 1,
          }),
        );
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/v1/edge`;
  return {
    url,
    frames,
    connections: () => sockets.size,
    /** Gone as a crashed process is: every connection cut, nothing listening any more. */
    async kill() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

/** An HTTP server that refuses every WebSocket upgrade with 503: the handshake fails. */
async function refusingServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(503).end());
  server.on('upgrade', (_req, socket) =>
    socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/edge`, server };
}

/** A port on which nothing listens: connecting is refused. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `ws://127.0.0.1:${port}/v1/edge`;
}

const header = (k: number) => ({
  type: 'frame' as const,
  frameId: `f-${k}`,
  seq: k,
  view: 'crop' as const,
  mime: 'image/jpeg' as const,
});

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('gateway link with several gateways', () => {
  it('skips a refused port and a failed handshake, and opens on the first gateway that welcomes it', async () => {
    const dead = await deadUrl();
    const refusing = await refusingServer();
    cleanup.push(async () => void refusing.server.close());
    const good = await protocolServer({ answer: true });
    cleanup.push(good.kill);
    const dials: string[] = [];
    const link = await createGatewayLink({
      url: [dead, refusing.url, good.url],
      deviceId: 'cam-1',
      token: 'secret-token',
      logger,
      reconnect: RECONNECT,
      trace: (e: LinkTrace) => {
        if (e.kind === 'dial') dials.push(e.gateway);
      },
    });
    cleanup.push(() => link.close());
    // Resolved once every gateway was tried: the third welcomed it on the first round.
    await expect.poll(() => link.state).toBe('open');
    expect(dials).toEqual([dead, refusing.url, good.url]);
    expect(link.gateway).toBe(good.url);
    expect(link.stats().failovers).toBe(2);
    const { answer } = await link.request(header(1), Buffer.from('jpeg bytes'), { deadlineMs: 10_000 });
    expect(answer.kind).toBe('result');
  });

  it('a single URL, unreachable, stays on that URL as before', async () => {
    const dead = await deadUrl();
    const link = await createGatewayLink({
      url: dead,
      deviceId: 'cam-1',
      token: 'secret-token',
      logger,
      reconnect: RECONNECT,
    });
    cleanup.push(() => link.close());
    expect(link.state).toBe('reconnecting');
    expect(link.gateway).toBe(dead);
    await expect.poll(() => link.stats().reconnects).toBeGreaterThanOrEqual(2);
    expect(link.stats().failovers).toBe(0);
  });

  it('when its gateway dies, resends every unanswered frame to the next, same id, same bytes', async () => {
    const silent = await protocolServer({ answer: false });
    const next = await protocolServer({ answer: true });
    cleanup.push(next.kill);
    const link = await createGatewayLink({
      url: [silent.url, next.url],
      deviceId: 'cam-1',
      token: 'secret-token',
      logger,
      reconnect: RECONNECT,
    });
    cleanup.push(() => link.close());
    expect(link.gateway).toBe(silent.url);
    const n = 5;
    const answers = Array.from({ length: n }, (_, k) =>
      link.request(header(k), Buffer.from(`payload of frame ${k}`), { deadlineMs: 30_000 }),
    );
    await expect.poll(() => silent.frames.length).toBe(n);
    await silent.kill();

    const settled = await Promise.all(answers);
    expect(settled.map((s) => s.answer.kind)).toEqual(Array(n).fill('result'));
    expect(link.gateway).toBe(next.url);
    // The second gateway got each frame once, as the first did: same ids, byte-identical envelopes.
    expect(next.frames.map((f) => f.frameId)).toEqual(silent.frames.map((f) => f.frameId));
    for (let k = 0; k < n; k++) expect(next.frames[k]!.bytes.equals(silent.frames[k]!.bytes)).toBe(true);
    const stats = link.stats();
    expect(stats).toMatchObject({ resent: n, framesSent: 2 * n, failovers: 1 });
    // Each frame's bytes counted for both sends.
    expect(settled.map((s) => s.bytesSent)).toEqual(silent.frames.map((f) => 2 * f.bytes.length));
  });
});
