// Helpers of the replicas test: gateway processes whose log lines the test keeps, a raw edge
// client, and the gateway's HTTP endpoints as the test reads them.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { encodeFrame, PROTOCOL_VERSION } from '@squeezegate/shared';
import WebSocket from 'ws';
import { modelsDir, repoRoot } from '../support/env.ts';

const GATEWAY_BIN = path.join(repoRoot, 'packages/gateway/dist/main.js');

export interface Replica {
  child: ChildProcess;
  port: number;
  url: string;
  edgeUrl: string;
  /** Every JSON log line so far. */
  logs: { msg?: string; [k: string]: unknown }[];
  stop(): Promise<void>;
}

/** A gateway process on a free port; resolves once it logs that it listens. */
export async function startReplica(args: readonly string[]): Promise<Replica> {
  const child = spawn(process.execPath, [GATEWAY_BIN, '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir },
  });
  const logs: Replica['logs'] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const listening = new Promise<number>((resolve, reject) => {
    // Read every line for as long as the process lives: a full pipe would block its logger.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        logs.push(entry);
        if (entry.msg === 'gateway listening') resolve(entry.port);
      } catch {}
    });
    child.once('exit', () => reject(new Error(`gateway exited before listening: ${stderr}`)));
  });
  const port = await listening;
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    edgeUrl: `ws://127.0.0.1:${port}/v1/edge`,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ServerMsg {
  type: string;
  code?: string;
  frameId?: string;
  top?: { index: number; p: number }[];
}

/** A raw edge connection: says hello, records every message and how the socket closed. */
export async function edge(url: string, deviceId: string, token: string) {
  const ws = new WebSocket(url);
  const messages: ServerMsg[] = [];
  let wake = () => {};
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    wake();
  });
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    ws.on('close', (code) => resolve({ code, at: performance.now() })),
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  /** Resolves with the first `n` messages (rejects after a generous deadline). */
  const received = (n: number, timeoutMs = 60_000) =>
    new Promise<ServerMsg[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${messages.length} of ${n}: ${JSON.stringify(messages)}`)),
        timeoutMs,
      );
      const check = () => {
        if (messages.length < n) return;
        clearTimeout(timer);
        wake = () => {};
        resolve(messages.slice(0, n));
      };
      wake = check;
      check();
    });
  ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, deviceId, token }));
  await received(1);
  const send = (frameId: string, image: Uint8Array) =>
    ws.send(encodeFrame({ type: 'frame', frameId, seq: 0, view: 'full', mime: 'image/jpeg' }, image));
  return { ws, messages, closed, received, send };
}

/** The value of one sample in a Prometheus text exposition, or null when absent. */
export const sample = (metrics: string, series: string): number | null => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
};

export function http(replica: Replica, admin: string) {
  const headers = { authorization: `Bearer ${admin}` };
  return {
    metrics: async () => (await fetch(`${replica.url}/metrics`, { headers })).text(),
    readyz: async () =>
      (await (await fetch(`${replica.url}/readyz`)).json()) as {
        status: string;
        state?: { store: string; up: boolean; outages: number; pendingAnswers: number };
      },
    snapshot: async () =>
      (await (await fetch(`${replica.url}/dashboard/snapshot`, { headers })).json()) as {
        devices: { deviceId: string; connected: boolean }[];
      },
    revoke: (deviceId: string) =>
      fetch(`${replica.url}/admin/devices/${deviceId}/revoke`, { method: 'POST', headers }),
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
