import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  encodeFrame,
  type Hello,
  PROTOCOL_VERSION,
  parseJsonMessage,
  ServerMessageSchema,
  type Stats,
  StatsSchema,
  type Welcome,
} from '@squeezegate/shared';
import WebSocket from 'ws';
import { planReconnect } from './backoff.ts';
import type { GatewayLink, GatewayLinkOptions, LinkState } from './link-types.ts';
import { createPendingFrames } from './pending-frames.ts';

export type {
  GatewayLink,
  GatewayLinkOptions,
  LinkAnswer,
  LinkState,
  LinkStats,
  LinkTrace,
} from './link-types.ts';

/**
 * The agent's supervised WebSocket to the gateway: hello with the device token, heartbeat both
 * ways, reconnect with exponential backoff and jitter (to the next gateway of the list), resend
 * of unanswered frames after a reconnect, a jittered hold after `BUSY`. Resolves once the first
 * attempt is welcomed, refused or failed; the agent works locally meanwhile, and the link keeps
 * trying in the background unless it was refused.
 */
export async function createGatewayLink(options: GatewayLinkOptions): Promise<GatewayLink> {
  const {
    url,
    deviceId,
    token,
    connectTimeoutMs = 5000,
    heartbeatMs = 15_000,
    maxPayloadBytes = 1 << 20,
    reconnect = { baseMs: 250, maxMs: 10_000 },
    busyBackoff = { baseMs: 50, maxMs: 2000 },
    spool = null,
    random = Math.random,
    trace,
  } = options;
  const urls = typeof url === 'string' ? [url] : [...url];
  if (urls.length === 0) throw new TypeError('createGatewayLink: at least one gateway URL');
  let current = 0;
  let lastDialled: number | null = null;
  const log = options.logger.child({ component: 'gateway-link' });
  let state: LinkState = 'connecting';
  let lastError: string | null = null;
  let welcome: Welcome | null = null;
  let ws: WebSocket | null = null;
  let closing = false;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let cameraStatsRefused = false;
  // The live connection's TCP socket: what it wrote counts until it closes, then joins the total.
  let liveTcp: Socket | null = null;
  const stats = {
    messageBytes: 0,
    wireBytes: 0,
    framesSent: 0,
    reportBytes: 0,
    reconnects: 0,
    resent: 0,
    late: 0,
    busy: 0,
    backoffs: 0,
    failovers: 0,
  };
  let firstOutcome: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    firstOutcome = resolve;
  });

  const send = (data: Buffer | string, then?: (err?: Error) => void) => {
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    stats.messageBytes += n;
    ws!.send(data, { binary: typeof data !== 'string' }, then);
    return n;
  };

  const pending = createPendingFrames({
    write: (frameId, envelope) =>
      send(envelope, (err) => {
        if (err)
          log.warn({ frameId, err: err.message }, 'send failed; the frame goes again after a reconnect');
      }),
    writable: () => state === 'open' && ws?.readyState === WebSocket.OPEN,
    gateway: () => urls[current]!,
    stats,
    busyBackoff,
    random,
    spool,
    log,
    onLate: options.onLate,
    trace,
  });

  const connect = () => {
    const target = urls[current]!;
    if (lastDialled !== null && lastDialled !== current) stats.failovers++;
    lastDialled = current;
    trace?.({ kind: 'dial', gateway: target, at: performance.now() });
    const socket = new WebSocket(target, { maxPayload: maxPayloadBytes, handshakeTimeout: connectTimeoutMs });
    ws = socket;
    let alive = true;
    socket.on('upgrade', (res: IncomingMessage) => {
      liveTcp = res.socket as Socket;
    });
    const heartbeat = setInterval(() => {
      if (!alive) {
        log.warn('gateway silent past heartbeat, terminating link');
        socket.terminate();
        return;
      }
      alive = false;
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, heartbeatMs);
    heartbeat.unref();
    const helloTimer = setTimeout(() => {
      if (state !== 'open') {
        lastError = `no welcome within ${connectTimeoutMs} ms`;
        socket.terminate();
      }
    }, connectTimeoutMs);
    socket.on('pong', () => {
      alive = true;
    });
    socket.on('open', () => {
      const hello: Hello = {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        deviceId,
        token,
        agent: 'squeezegate-edge',
      };
      send(JSON.stringify(hello));
    });
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      alive = true;
      if (isBinary) return void log.warn('unexpected binary message from gateway');
      const parsed = parseJsonMessage(ServerMessageSchema, data.toString());
      if (!parsed.ok) return void log.warn({ error: parsed.error }, 'malformed message from gateway');
      const msg = parsed.value;
      switch (msg.type) {
        case 'welcome': {
          clearTimeout(helloTimer);
          welcome = msg;
          if (attempt > 0 || stats.reconnects > 0)
            log.info({ pending: pending.size, gateway: target }, 'gateway link re-established');
          else log.info({ cloudModel: msg.cloudModel, gateway: target }, 'gateway welcomed device');
          state = 'open';
          attempt = 0;
          firstOutcome();
          // Unanswered frames go again under the same id: the gateway answers a repeated id once.
          pending.flush();
          return;
        }
        case 'result':
          pending.result(msg);
          return;
        case 'policy':
          options.onPolicy?.(msg);
          return;
        case 'error':
          if (msg.frameId !== undefined) return pending.error(msg.frameId, msg.code, msg.message);
          lastError = `${msg.code}: ${msg.message}`;
          if (msg.code === 'AUTH_FAILED' || msg.code === 'PROTOCOL_VERSION') {
            state = 'refused';
            log.error({ code: msg.code, message: msg.message }, 'gateway refused the device');
          } else log.warn({ code: msg.code, message: msg.message }, 'gateway error');
          return;
      }
    });
    socket.on('error', (err) => {
      lastError = err.message;
      log.debug({ err: err.message }, 'gateway link error');
    });
    socket.on('close', (code, reason) => {
      clearInterval(heartbeat);
      clearTimeout(helloTimer);
      stats.wireBytes += liveTcp?.bytesWritten ?? 0;
      liveTcp = null;
      if (ws === socket) ws = null;
      const why = reason.length > 0 ? reason.toString() : (lastError ?? `closed with ${code}`);
      // A refusal already says why (AUTH_FAILED: …); keep that rather than the close reason.
      if (state !== 'refused') lastError = why;
      pending.disconnected();
      // The first outcome: refused, or every gateway of the list tried once.
      if (closing || state === 'refused' || attempt + 1 >= urls.length) firstOutcome();
      if (closing || state === 'refused') {
        if (state !== 'refused') state = 'closed';
        pending.settleAll({ kind: 'unavailable', reason: `link closed (${why})` });
        return;
      }
      state = 'reconnecting';
      const plan = planReconnect({
        gateways: urls.length,
        current,
        failures: attempt,
        bounds: reconnect,
        random,
      });
      const delay = plan.delayMs;
      current = plan.index;
      attempt++;
      log.warn(
        {
          code,
          reason: why,
          retryInMs: Math.round(delay),
          pending: pending.size,
          gateway: target,
          ...(urls.length > 1 ? { next: urls[current] } : {}),
        },
        'gateway link lost; reconnecting',
      );
      reconnectTimer = setTimeout(() => {
        reconnectTimer = null;
        stats.reconnects++;
        connect();
      }, delay);
    });
  };

  connect();
  await first;

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
    get gateway() {
      return urls[current]!;
    },
    async request(header, image, { deadlineMs }) {
      if (state === 'refused' || state === 'closed') {
        return { answer: { kind: 'unavailable', reason: lastError ?? `link ${state}` }, bytesSent: 0 };
      }
      const envelope = encodeFrame(header, image);
      const { frameId } = header;
      // While the gateway is unreachable the envelope waits on disk, for the spool's time-to-live.
      let spooled = false;
      if (state !== 'open' && spool) {
        if (!(await spool.put(frameId, envelope))) {
          return {
            answer: { kind: 'unavailable', reason: 'gateway unreachable and the spool is full' },
            bytesSent: 0,
          };
        }
        spooled = true;
      }
      const waitMs = spooled && spool ? spool.ttlMs : deadlineMs;
      return pending.add(frameId, { envelope, spooled, waitMs });
    },
    stats() {
      return { ...stats, wireBytes: stats.wireBytes + (liveTcp?.bytesWritten ?? 0) };
    },
    report(totals) {
      if (state !== 'open' || ws?.readyState !== WebSocket.OPEN) return;
      let message: Stats = { type: 'stats', ...totals };
      // The gateway closes a link that sends a malformed message: camera stats outside the
      // protocol's bounds are left out of the report rather than costing every frame in flight.
      const checked = message.cameras ? StatsSchema.safeParse(message) : null;
      if (checked && !checked.success) {
        const { cameras, ...rest } = message;
        message = rest;
        if (!cameraStatsRefused) {
          const issue = checked.error.issues[0];
          log.warn(
            { cameras: cameras?.length, path: issue?.path.join('.'), issue: issue?.message },
            'camera stats outside the protocol; reports go without them',
          );
        }
        cameraStatsRefused = true;
      }
      const n = send(JSON.stringify(message));
      stats.reportBytes += n;
    },
    async close() {
      closing = true;
      pending.close();
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const socket = ws;
      if (!socket || socket.readyState === WebSocket.CLOSED) {
        state = 'closed';
        pending.settleAll({ kind: 'unavailable', reason: 'link closed' });
        return;
      }
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else socket.close(1000, 'agent done');
        setTimeout(() => socket.terminate(), 2000).unref();
      });
    },
  };
}
