import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  encodeFrame,
  type FrameHeader,
  type Hello,
  PROTOCOL_VERSION,
  parseJsonMessage,
  type ResultMessage,
  ServerMessageSchema,
  type Stats,
  type Welcome,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import WebSocket from 'ws';

/** What became of one offload request. */
export type LinkAnswer =
  | { kind: 'result'; result: ResultMessage; rttMs: number }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'unavailable'; reason: string };

export type LinkState = 'connecting' | 'open' | 'refused' | 'closed';

export interface LinkStats {
  /** Bytes of every message the agent sent (hello + frame envelopes). */
  messageBytes: number;
  /** Bytes written to the TCP socket: messages plus WebSocket framing and the HTTP upgrade. */
  wireBytes: number;
  framesSent: number;
  /** Bytes of the stats reports among `messageBytes`. */
  reportBytes: number;
}

export interface GatewayLink {
  readonly state: LinkState;
  /** Why the gateway refused or dropped us, when it did. */
  readonly lastError: string | null;
  readonly welcome: Welcome | null;
  /** Sends one frame and waits for its answer until the deadline; never rejects. */
  request(
    header: FrameHeader,
    image: Uint8Array,
    options: { deadlineMs: number },
  ): Promise<{ answer: LinkAnswer; bytesSent: number }>;
  stats(): LinkStats;
  /** Sends the agent's running totals (fire and forget; dropped when the link is down). */
  report(stats: Omit<Stats, 'type'>): void;
  close(): Promise<void>;
}

export interface GatewayLinkOptions {
  url: string;
  deviceId: string;
  token: string;
  logger: Logger;
  connectTimeoutMs?: number;
  heartbeatMs?: number;
  /** Largest message accepted from the gateway. */
  maxPayloadBytes?: number;
}

/**
 * Opens the agent's WebSocket to the gateway and says hello. Resolves once the gateway has
 * welcomed or refused the device, or the connection failed: the agent works locally either way.
 */
export async function createGatewayLink(options: GatewayLinkOptions): Promise<GatewayLink> {
  const {
    url,
    deviceId,
    token,
    connectTimeoutMs = 5000,
    heartbeatMs = 15_000,
    maxPayloadBytes = 1 << 20,
  } = options;
  const log = options.logger.child({ component: 'gateway-link' });
  let state: LinkState = 'connecting';
  let lastError: string | null = null;
  let welcome: Welcome | null = null;
  let socket: Socket | null = null;
  let messageBytes = 0;
  let framesSent = 0;
  let reportBytes = 0;
  const pending = new Map<string, (answer: LinkAnswer) => void>();

  const ws = new WebSocket(url, { maxPayload: maxPayloadBytes, handshakeTimeout: connectTimeoutMs });
  ws.on('upgrade', (res: IncomingMessage) => {
    socket = res.socket as Socket;
  });

  const settleAll = (reason: string) => {
    for (const [id, settle] of pending) {
      pending.delete(id);
      settle({ kind: 'unavailable', reason });
    }
  };

  let alive = true;
  const heartbeat = setInterval(() => {
    if (!alive) {
      log.warn('gateway silent past heartbeat, terminating link');
      ws.terminate();
      return;
    }
    alive = false;
    if (ws.readyState === WebSocket.OPEN) ws.ping();
  }, heartbeatMs);
  heartbeat.unref();
  ws.on('pong', () => {
    alive = true;
  });

  const opened = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if (state === 'connecting') {
        lastError = `no welcome within ${connectTimeoutMs} ms`;
        ws.terminate();
      }
    }, connectTimeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    ws.on('open', () => {
      const hello: Hello = {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        deviceId,
        token,
        agent: 'squeezegate-edge',
      };
      const text = JSON.stringify(hello);
      messageBytes += Buffer.byteLength(text);
      ws.send(text);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      alive = true;
      if (isBinary) {
        log.warn('unexpected binary message from gateway');
        return;
      }
      const parsed = parseJsonMessage(ServerMessageSchema, data.toString());
      if (!parsed.ok) {
        log.warn({ error: parsed.error }, 'malformed message from gateway');
        return;
      }
      const msg = parsed.value;
      switch (msg.type) {
        case 'welcome':
          welcome = msg;
          state = 'open';
          log.info({ cloudModel: msg.cloudModel }, 'gateway welcomed device');
          done();
          return;
        case 'result':
          pending.get(msg.frameId)?.({ kind: 'result', result: msg, rttMs: 0 });
          return;
        case 'error':
          if (msg.frameId !== undefined) {
            pending.get(msg.frameId)?.({ kind: 'error', code: msg.code, message: msg.message });
            return;
          }
          lastError = `${msg.code}: ${msg.message}`;
          if (msg.code === 'AUTH_FAILED' || msg.code === 'PROTOCOL_VERSION') state = 'refused';
          log.error({ code: msg.code, message: msg.message }, 'gateway refused the device');
          done();
          return;
      }
    });
    ws.on('error', (err) => {
      lastError = err.message;
      log.warn({ err }, 'gateway link error');
    });
    ws.on('close', (code, reason) => {
      clearInterval(heartbeat);
      if (state !== 'refused') state = 'closed';
      const why = reason.length > 0 ? reason.toString() : (lastError ?? `closed with ${code}`);
      lastError ??= why;
      log.info({ code, reason: why }, 'gateway link closed');
      settleAll(`link closed (${why})`);
      done();
    });
  });
  await opened;

  return {
    get state() {
      return state;
    },
    get lastError() {
      return lastError;
    },
    get welcome() {
      return welcome;
    },
    request(header, image, { deadlineMs }) {
      if (state !== 'open' || ws.readyState !== WebSocket.OPEN) {
        return Promise.resolve({
          answer: { kind: 'unavailable', reason: lastError ?? `link ${state}` },
          bytesSent: 0,
        });
      }
      const envelope = encodeFrame(header, image);
      const started = performance.now();
      return new Promise((resolve) => {
        const timer = setTimeout(() => settle({ kind: 'timeout', afterMs: deadlineMs }), deadlineMs);
        const settle = (answer: LinkAnswer) => {
          if (!pending.delete(header.frameId)) return;
          clearTimeout(timer);
          const rttMs = performance.now() - started;
          resolve({
            answer: answer.kind === 'result' ? { ...answer, rttMs } : answer,
            bytesSent: envelope.length,
          });
        };
        pending.set(header.frameId, settle);
        messageBytes += envelope.length;
        framesSent++;
        ws.send(envelope, { binary: true }, (err) => {
          if (err) settle({ kind: 'unavailable', reason: `send failed: ${err.message}` });
        });
      });
    },
    stats() {
      return { messageBytes, wireBytes: socket?.bytesWritten ?? 0, framesSent, reportBytes };
    },
    report(stats) {
      if (state !== 'open' || ws.readyState !== WebSocket.OPEN) return;
      const text = JSON.stringify({ type: 'stats', ...stats } satisfies Stats);
      messageBytes += Buffer.byteLength(text);
      reportBytes += Buffer.byteLength(text);
      ws.send(text);
    },
    async close() {
      clearInterval(heartbeat);
      if (ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'agent done');
        setTimeout(() => {
          ws.terminate();
        }, 2000).unref();
      });
    },
  };
}
