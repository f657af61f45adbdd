// A gateway on port 0 with a fake cloud backend, and a raw edge client: the sessions, the ledger
// and the limits run for real, only the model is replaced.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type CloudBackend, createGateway, type Gateway } from '@squeezegate/gateway';
import {
  encodeFrame,
  encodeJpeg,
  GatewayConfigSchema,
  getModelSpec,
  PROTOCOL_VERSION,
} from '@squeezegate/shared';
import { pino } from 'pino';
import WebSocket, { type ClientOptions } from 'ws';

export const logger = pino({ level: 'silent' });
export const ADMIN = 'admin-token-0123456789';
export const DEVICES = [
  { id: 'cam-1', token: 'token-one-1111' },
  { id: 'cam-2', token: 'token-two-2222' },
];
const LABELS = Array.from({ length: 1000 }, (_, i) => `class ${i}`);

/**
 * Answers every input with logits peaking at a new class each time (the n-th inference says
 * class n), so an answer sent twice is told apart from a second inference. `hold()` keeps
 * batches from finishing until `release()`.
 */
export function fakeBackend() {
  let inferences = 0;
  let gate: Promise<void> | null = null;
  let open = () => {};
  const backend: CloudBackend & {
    inferences(): number;
    hold(): void;
    release(): void;
  } = {
    spec: getModelSpec('mobilenetv2-12-int8')!,
    concurrency: 1,
    async run(inputs) {
      await gate;
      return inputs.map(() => {
        inferences++;
        const logits = new Float32Array(1000);
        logits[inferences % 1000] = 20;
        return logits;
      });
    },
    async close() {},
    inferences: () => inferences,
    hold() {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release() {
      open();
      gate = null;
    },
  };
  return backend;
}

export async function startGateway(
  settings: Record<string, unknown> = {},
  backend = fakeBackend(),
): Promise<{ gateway: Gateway; backend: ReturnType<typeof fakeBackend> }> {
  const gateway = await createGateway({
    config: GatewayConfigSchema.parse({
      port: 0,
      modelsDir: '/nonexistent',
      devices: DEVICES,
      maxQueueDelayMs: 0,
      ...settings,
    }),
    logger,
    backend,
    labels: LABELS,
  });
  return { gateway, backend };
}

/** A small JPEG; a different `shade` gives different bytes. */
export const jpeg = (shade: number) => encodeJpeg({ pixels: Buffer.alloc(32 * 32 * 3, shade), size: 32 }, 90);

export const frame = (frameId: string, image: Uint8Array, seq = 0) =>
  encodeFrame({ type: 'frame', frameId, seq, view: 'full', mime: 'image/jpeg' }, image);

export interface ServerMsg {
  type: string;
  code?: string;
  frameId?: string;
  message?: string;
  top?: { index: number }[];
}

/** A raw edge connection that records every message and how the socket closed. */
export async function connect(url: string, options: ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  const messages: ServerMsg[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  /** Resolves once `n` messages have come (or rejects after `timeoutMs`). */
  const received = (n: number, timeoutMs = 5000) =>
    new Promise<ServerMsg[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${messages.length} of ${n} messages: ${JSON.stringify(messages)}`)),
        timeoutMs,
      );
      const check = () => {
        if (messages.length >= n) {
          clearTimeout(timer);
          resolve(messages.slice(0, n));
        } else waiters.push(check);
      };
      check();
    });
  return { ws, messages, closed, received };
}

/** Connects and says hello; resolves once welcomed (or refused: see `messages`). */
export async function device(url: string, id = 'cam-1', token?: string, options: ClientOptions = {}) {
  const client = await connect(url, options);
  const known = DEVICES.find((d) => d.id === id)?.token ?? 'no-such-token';
  client.ws.send(
    JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, deviceId: id, token: token ?? known }),
  );
  await client.received(1);
  return client;
}

const run = promisify(execFile);

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl for this test run. */
export async function selfSignedCert(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-days',
    '1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}
