import { createHash } from 'node:crypto';
import {
  ClientTextMessageSchema,
  decodeFrame,
  type ErrorMessage,
  type FrameHeader,
  PROTOCOL_VERSION,
  parseJsonMessage,
  type ServerMessage,
  WireErrorCode,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { DeviceRegistry } from '../auth/device-registry.ts';
import type { CloudAnswer, CloudInference } from '../inference/cloud-inference.ts';
import type { FairShare } from '../limits/fair-share.ts';
import type { FrameRateLimiter } from '../limits/frame-rate.ts';
import type { FleetMonitor } from '../monitor/fleet-monitor.ts';
import type { GatewayMetrics } from '../monitor/metrics.ts';
import type { PayloadPreview } from '../monitor/payload-preview.ts';
import type { ConnectionHandle, DeviceConnections } from './device-connections.ts';
import type { FrameLedger } from './frame-ledger.ts';

/** Close codes (RFC 6455 §7.4.1). */
export const CloseCode = { NORMAL: 1000, GOING_AWAY: 1001, POLICY: 1008, TOO_BIG: 1009 } as const;

export interface GatewayCounters {
  devicesConnected: number;
  /** Frames taken as new work (a repeated frame id is not counted again). */
  framesIn: number;
  bytesIn: number;
  results: number;
  errors: number;
  /** Frames received again under an id already answered or in flight: answered without inference. */
  duplicates: number;
}

/** Outcomes that may change if the frame is sent again: never kept as a frame's answer. */
const RETRYABLE: ReadonlySet<string> = new Set([
  WireErrorCode.BUSY,
  WireErrorCode.RATE_LIMITED,
  WireErrorCode.SHUTTING_DOWN,
  WireErrorCode.INFERENCE_FAILED,
]);

export interface EdgeSessionOptions {
  ws: WebSocket;
  registry: DeviceRegistry;
  cloud: CloudInference;
  logger: Logger;
  counters: GatewayCounters;
  monitor: FleetMonitor;
  metrics: GatewayMetrics;
  /** Answers by device and frame id, across connections. */
  ledger: FrameLedger;
  rateLimiter: FrameRateLimiter;
  /** Each device's share of the inference queue under pressure; none: first come, first served. */
  fairShare?: FairShare | null;
  connections: DeviceConnections;
  /** False once the gateway is shutting down: new frames are answered SHUTTING_DOWN. */
  accepting: () => boolean;
  /** Keeps a copy of every new frame's payload as received (the dashboard's "what left"); null: none. */
  preview?: PayloadPreview | null;
  /** Told of every frame being answered, so shutdown can wait for them. */
  track?: (work: Promise<unknown>) => void;
  maxPayloadBytes: number;
  /** The fleet controller's bar in force, sent right after the welcome; null: no fleet budget. */
  fleetPolicy?: () => ServerMessage | null;
  helloTimeoutMs?: number;
  heartbeatMs?: number;
}

/**
 * One edge agent's connection: a hello with a valid token first, then binary frame envelopes,
 * each answered by a result or an error for that frame, once per frame id (see FrameLedger).
 */
export function attachEdgeSession(options: EdgeSessionOptions): { done: Promise<void> } {
  const {
    ws,
    registry,
    cloud,
    counters,
    monitor,
    metrics,
    ledger,
    rateLimiter,
    connections,
    accepting,
    maxPayloadBytes,
    helloTimeoutMs = 10_000,
    heartbeatMs = 15_000,
  } = options;
  let log = options.logger.child({ component: 'edge-session' });
  let deviceId: string | null = null;
  let inFlight = 0;

  const sendText = (text: string) => {
    if (ws.readyState === ws.OPEN) ws.send(text);
  };
  // Error texts echo what the peer sent (validation messages name its keys): keep them within the
  // protocol's bound so the answer itself stays valid.
  const send = (msg: ServerMessage) =>
    sendText(
      JSON.stringify(
        msg.type === 'error' && msg.message.length > MAX_ERROR_TEXT
          ? { ...msg, message: `${msg.message.slice(0, MAX_ERROR_TEXT)}…` }
          : msg,
      ),
    );
  const refuse = (code: ErrorMessage['code'], message: string, close: number = CloseCode.POLICY) => {
    if (ws.readyState !== ws.OPEN) return;
    counters.errors++;
    log.warn({ code, message }, 'refusing edge connection');
    send({ type: 'error', code, message });
    // The close reason must fit a control frame (RFC 6455 §5.5: 125 bytes).
    ws.close(close, closeReason(message));
  };
  const handle: ConnectionHandle = { refuse: (code, message) => refuse(code, message), send: sendText };

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

  async function onFrame(device: string, data: Buffer): Promise<void> {
    const frame = decodeFrame(data);
    if (!frame.ok) {
      refuse(WireErrorCode.BAD_MESSAGE, frame.error);
      return;
    }
    const { header, image } = frame.value;
    const fingerprint = createHash('sha256')
      .update(`${header.view}\0${header.mime}\0`)
      .update(image)
      .digest('base64');
    // Awaited: a shared ledger (Redis) may have the answer from another replica.
    const claim = await ledger.claim(device, header.frameId, fingerprint);
    if (claim.kind !== 'new') {
      // Sent again (after a reconnect): the same answer, and nothing counted twice.
      counters.duplicates++;
      metrics.duplicate();
      log.debug({ frameId: header.frameId, state: claim.kind }, 'repeated frame id');
      sendText(claim.kind === 'answered' ? claim.answer : await claim.answer);
      return;
    }
    options.preview?.add({ deviceId: device, header, image });
    counters.framesIn++;
    inFlight++;
    const started = performance.now();
    let answer: CloudAnswer;
    try {
      answer = await answerFrame(device, image, header.view);
    } finally {
      inFlight--;
    }
    let text: string;
    if (answer.ok) {
      counters.results++;
      text = JSON.stringify({
        type: 'result',
        frameId: header.frameId,
        ...answer.result,
      } satisfies ServerMessage);
    } else {
      counters.errors++;
      log.info({ frameId: header.frameId, code: answer.code }, 'frame answered with an error');
      text = JSON.stringify({
        type: 'error',
        code: answer.code,
        message: answer.message,
        frameId: header.frameId,
      } satisfies ServerMessage);
    }
    claim.settle(text, { remember: answer.ok || !RETRYABLE.has(answer.code) });
    sendText(text);
    metrics.frame(
      answer.ok ? 'ok' : answer.code,
      (performance.now() - started) / 1000,
      answer.ok ? answer.result.top[0]!.p : null,
    );
    monitor.frameAnswered({
      deviceId: device,
      frameId: header.frameId,
      local: header.local ?? null,
      cloud: answer.ok ? answer.result.top[0]! : null,
      status: answer.ok ? 'ok' : answer.code,
      latencyMs: performance.now() - started,
    });
  }

  /** New work: refused while shutting down or over the device's rate, else classified. */
  async function answerFrame(device: string, image: Buffer, view: FrameHeader['view']): Promise<CloudAnswer> {
    if (!accepting()) {
      return { ok: false, code: WireErrorCode.SHUTTING_DOWN, message: 'the gateway is shutting down' };
    }
    if (!(await rateLimiter.take(device))) {
      return {
        ok: false,
        code: WireErrorCode.RATE_LIMITED,
        message: `over this device's ${rateLimiter.perSecond} frames per second`,
      };
    }
    const slot = options.fairShare?.take(device);
    if (slot === null) {
      // BUSY, as a full queue: retryable, and the agent backs off.
      return {
        ok: false,
        code: WireErrorCode.BUSY,
        message: `this device holds its share of the inference queue (${options.fairShare!.share()} frames)`,
      };
    }
    try {
      return await cloud.infer(image, view);
    } catch (err) {
      // The frame still gets an answer (and any repeat of it waiting for one); the cause stays here.
      log.error({ err }, 'frame handling failed');
      return { ok: false, code: WireErrorCode.INFERENCE_FAILED, message: 'the gateway failed on this frame' };
    } finally {
      slot?.release();
    }
  }

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    alive = true;
    // Refused or closing: whatever else the peer sent is not ours to act on.
    if (ws.readyState !== ws.OPEN) return;
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
      if (!connections.admit(hello.deviceId, handle)) {
        refuse(
          WireErrorCode.TOO_MANY_CONNECTIONS,
          `device "${hello.deviceId}" already has ${connections.count(hello.deviceId)} connections`,
        );
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
      const policy = options.fleetPolicy?.();
      if (policy) send(policy);
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
    const work = onFrame(deviceId, data).catch((err: unknown) => {
      counters.errors++;
      log.error({ err }, 'frame handling failed');
    });
    options.track?.(work);
  });

  const done = new Promise<void>((resolve) => {
    ws.on('close', (code) => {
      clearTimeout(helloTimer);
      clearInterval(heartbeat);
      if (deviceId !== null) {
        connections.release(deviceId, handle);
        counters.devicesConnected--;
        // A device reconnecting holds two connections for a while: it is gone when both are.
        if (connections.count(deviceId) === 0) monitor.deviceDisconnected(deviceId);
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

const MAX_ERROR_TEXT = 1000;

/**
 * A close reason fits in 123 bytes of UTF-8 (RFC 6455 §5.5: a control frame's payload is at most
 * 125 bytes, 2 of them the code); ws throws on a longer one. Cut on a character boundary.
 */
export function closeReason(message: string): string {
  let out = '';
  for (const ch of message) {
    if (Buffer.byteLength(out + ch) > 123) break;
    out += ch;
  }
  return out;
}
