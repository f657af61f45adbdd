import {
  ClientTextMessageSchema,
  decodeFrame,
  type ErrorMessage,
  PROTOCOL_VERSION,
  parseJsonMessage,
  type ServerMessage,
  WireErrorCode,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { DeviceRegistry } from '../auth/device-registry.ts';
import type { CloudInference } from '../inference/cloud-inference.ts';
import type { FleetMonitor } from '../monitor/fleet-monitor.ts';
import type { GatewayMetrics } from '../monitor/metrics.ts';

/** Close codes (RFC 6455 §7.4.1). */
export const CloseCode = { NORMAL: 1000, GOING_AWAY: 1001, POLICY: 1008, TOO_BIG: 1009 } as const;

export interface GatewayCounters {
  devicesConnected: number;
  framesIn: number;
  bytesIn: number;
  results: number;
  errors: number;
}

export interface EdgeSessionOptions {
  ws: WebSocket;
  registry: DeviceRegistry;
  cloud: CloudInference;
  logger: Logger;
  counters: GatewayCounters;
  monitor: FleetMonitor;
  metrics: GatewayMetrics;
  maxPayloadBytes: number;
  helloTimeoutMs?: number;
  heartbeatMs?: number;
}

/**
 * One edge agent's connection: a hello with a valid token first, then binary frame envelopes,
 * each answered by a result or an error for that frame.
 */
export function attachEdgeSession(options: EdgeSessionOptions): { done: Promise<void> } {
  const {
    ws,
    registry,
    cloud,
    counters,
    monitor,
    metrics,
    maxPayloadBytes,
    helloTimeoutMs = 10_000,
    heartbeatMs = 15_000,
  } = options;
  let log = options.logger.child({ component: 'edge-session' });
  let deviceId: string | null = null;
  let inFlight = 0;

  const send = (msg: ServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const refuse = (code: ErrorMessage['code'], message: string, close: number = CloseCode.POLICY) => {
    counters.errors++;
    log.warn({ code, message }, 'refusing edge connection');
    send({ type: 'error', code, message });
    ws.close(close, message.slice(0, 120));
  };

  const helloTimer = setTimeout(
    () => refuse(WireErrorCode.NOT_AUTHENTICATED, `no hello within ${helloTimeoutMs} ms`),
    helloTimeoutMs,
  );
  let alive = true;
  const heartbeat = setInterval(() => {
    if (!alive) {
      log.warn({ deviceId }, 'edge silent past heartbeat, terminating');
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, heartbeatMs);
  heartbeat.unref();
  ws.on('pong', () => {
    alive = true;
  });

  async function onFrame(data: Buffer): Promise<void> {
    const frame = decodeFrame(data);
    if (!frame.ok) {
      refuse(WireErrorCode.BAD_MESSAGE, frame.error);
      return;
    }
    const { header, image } = frame.value;
    counters.framesIn++;
    inFlight++;
    const started = performance.now();
    try {
      const answer = await cloud.infer(image, header.view);
      metrics.frame(
        answer.ok ? 'ok' : answer.code,
        (performance.now() - started) / 1000,
        answer.ok ? answer.result.top[0]!.p : null,
      );
      monitor.frameAnswered({
        deviceId: deviceId!,
        frameId: header.frameId,
        local: header.local ?? null,
        cloud: answer.ok ? answer.result.top[0]! : null,
        status: answer.ok ? 'ok' : answer.code,
        latencyMs: performance.now() - started,
      });
      if (answer.ok) {
        counters.results++;
        send({ type: 'result', frameId: header.frameId, ...answer.result });
      } else {
        counters.errors++;
        log.info({ frameId: header.frameId, code: answer.code }, 'frame answered with an error');
        send({ type: 'error', code: answer.code, message: answer.message, frameId: header.frameId });
      }
    } finally {
      inFlight--;
    }
  }

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    alive = true;
    counters.bytesIn += data.length;
    metrics.bytesReceived(data.length);
    if (deviceId === null) {
      if (isBinary) {
        refuse(WireErrorCode.NOT_AUTHENTICATED, 'send a hello before any frame');
        return;
      }
      const parsed = parseJsonMessage(ClientTextMessageSchema, data.toString('utf8'));
      if (!parsed.ok) {
        refuse(WireErrorCode.BAD_MESSAGE, `expected hello: ${parsed.error}`);
        return;
      }
      const hello = parsed.value;
      if (hello.type !== 'hello') {
        refuse(WireErrorCode.NOT_AUTHENTICATED, 'send a hello first');
        return;
      }
      if (hello.protocol !== PROTOCOL_VERSION) {
        refuse(
          WireErrorCode.PROTOCOL_VERSION,
          `protocol ${hello.protocol} not supported; this gateway speaks ${PROTOCOL_VERSION}`,
        );
        return;
      }
      if (!registry.verify(hello.deviceId, hello.token)) {
        refuse(WireErrorCode.AUTH_FAILED, `device "${hello.deviceId}" is unknown or its token is wrong`);
        return;
      }
      clearTimeout(helloTimer);
      deviceId = hello.deviceId;
      log = log.child({ deviceId });
      counters.devicesConnected++;
      monitor.deviceConnected(deviceId);
      log.info({ agent: hello.agent }, 'device connected');
      send({
        type: 'welcome',
        protocol: PROTOCOL_VERSION,
        deviceId,
        cloudModel: cloud.modelId,
        maxPayloadBytes,
      });
      return;
    }
    if (!isBinary) {
      const parsed = parseJsonMessage(ClientTextMessageSchema, data.toString('utf8'));
      if (!parsed.ok || parsed.value.type !== 'stats') {
        refuse(WireErrorCode.BAD_MESSAGE, parsed.ok ? 'hello was already said' : parsed.error);
        return;
      }
      monitor.reportStats(deviceId, parsed.value);
      return;
    }
    onFrame(data).catch((err: unknown) => {
      counters.errors++;
      log.error({ err }, 'frame handling failed');
    });
  });

  const done = new Promise<void>((resolve) => {
    ws.on('close', (code) => {
      clearTimeout(helloTimer);
      clearInterval(heartbeat);
      if (deviceId !== null) {
        counters.devicesConnected--;
        monitor.deviceDisconnected(deviceId);
      }
      log.info({ code, inFlight }, 'edge connection closed');
      resolve();
    });
  });
  ws.on('error', (err) => {
    // ws closes with 1009 itself when a message exceeds maxPayload; the error says why.
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'edge socket error');
  });
  return { done };
}
