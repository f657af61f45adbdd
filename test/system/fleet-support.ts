// Helpers of the fleet failover test: an edge agent as its own process, a subscriber on the real
// broker, a gateway frozen in place (SIGSTOP) so that what it sent can be read before it dies,
// and the shared ledger as Redis holds it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { connect } from 'mqtt';
import { modelsDir, repoRoot } from '../support/env.ts';
import { waitFor } from './replicas-support.ts';

const EDGE_BIN = path.join(repoRoot, 'packages/edge/dist/main.js');
export const BROKER_URL = process.env.SQUEEZEGATE_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/**
 * A TCP relay in front of a gateway whose answers can be muted: with `mute()`, what the gateway
 * sends back is dropped (the device's frames still go through). Answers lost on the way, as when
 * the network fails just before the gateway does. When the gateway closes, so does the device's
 * connection.
 */
export async function createMutingRelay(targetPort: number) {
  let muted = false;
  /** What the gateway sent while muted (its text messages are plain JSON in unmasked frames). */
  let dropped = '';
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => {
      if (muted) dropped += d.toString('latin1');
      else client.write(d);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    edgeUrl: `ws://127.0.0.1:${port}/v1/edge`,
    mute() {
      muted = true;
    },
    /** The frame ids of the results dropped so far. */
    droppedResults: () => [...dropped.matchAll(/\{"type":"result","frameId":"([^"]+)"/g)].map((m) => m[1]!),
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface AgentProcess {
  child: ChildProcess;
  deviceId: string;
  out: string;
  stderr: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** An edge agent process that offloads every frame and waits for each answer (long deadline). */
export function startAgent(options: {
  deviceId: string;
  token: string;
  gateways: readonly string[];
  source: string;
  frames: number;
  out: string;
}): AgentProcess {
  const child = spawn(
    process.execPath,
    [
      EDGE_BIN,
      ...options.gateways.flatMap((g) => ['--gateway', g]),
      ...['--device-id', options.deviceId, '--token', options.token, '--source', options.source],
      ...['--limit', String(options.frames), '--fps', '10', '--policy', 'always', '--faces', 'off'],
      // Longer than any wait here: every frame sent waits for the cloud's answer.
      ...['--deadline-ms', '120000', '--out', options.out, '--log-level', 'info'],
    ],
    { cwd: repoRoot, env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout!.resume();
  return {
    child,
    deviceId: options.deviceId,
    out: options.out,
    stderr: () => stderr,
    exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
  };
}

export interface AgentRecord {
  frameId: string;
  deviceId: string;
  seq: number;
  cloud: { status: string } | null;
}

export const readRecords = (file: string): AgentRecord[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l))
    : [];

/** The link's counters in the agent's "run finished" log line. */
export function linkStats(agent: AgentProcess): Record<string, number> | undefined {
  const line = agent
    .stderr()
    .split('\n')
    .find((l) => l.includes('"run finished"'));
  return line ? (JSON.parse(line).link as Record<string, number>) : undefined;
}

export interface Published {
  topic: string;
  json: { deviceId?: string; frameId?: string; state?: string; status?: string; gateway?: string } | null;
  text: string;
  retain: boolean;
}

/** A real client subscribed to everything under `prefix`; `close()` clears the retained topics it saw. */
export async function subscribe(prefix: string) {
  const client = connect(BROKER_URL, { clientId: `sg-test-${randomBytes(4).toString('hex')}` });
  const got: Published[] = [];
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString();
    let json: Published['json'] = null;
    try {
      json = JSON.parse(text);
    } catch {}
    got.push({ topic, json: typeof json === 'object' ? json : null, text, retain: packet.retain });
  });
  await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
  await client.subscribeAsync(`${prefix}/#`, { qos: 1 });
  return {
    got,
    /** Answers published under `prefix`, as (gateway, device, frame). */
    answers: () =>
      got
        .filter((m) => m.topic.endsWith('/answers') && m.json !== null)
        .map((m) => ({ gateway: m.json!.gateway!, deviceId: m.json!.deviceId!, frameId: m.json!.frameId! })),
    /** State changes under `prefix`, in the order received. */
    states: () =>
      got
        .filter((m) => m.topic.endsWith('/state') && m.json !== null)
        .map((m) => ({ gateway: m.json!.gateway!, deviceId: m.json!.deviceId!, state: m.json!.state! })),
    async close() {
      // An empty retained payload deletes a retained message.
      const retained = new Set(got.filter((m) => m.topic.endsWith('/available')).map((m) => m.topic));
      for (const topic of retained) await client.publishAsync(topic, '', { retain: true, qos: 1 });
      await client.endAsync();
    },
  };
}

/**
 * Freezes a process (SIGSTOP) and resolves once every thread of it is stopped: whatever it wrote
 * to a socket before is with the peer, and it writes nothing more. Linux (/proc).
 */
export async function freeze(child: ChildProcess): Promise<void> {
  const pid = child.pid!;
  child.kill('SIGSTOP');
  const allStopped = () =>
    readdirSync(`/proc/${pid}/task`).every((t) => {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      // Field 3, after the command name in parentheses: T = stopped.
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
    });
  await waitFor(allStopped, `process ${pid} stopped`, 30_000);
}

/** SIGKILLs a process (stopped or not) and resolves once it is gone. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export interface LedgerView {
  /** Frame ids whose answer (a result) is in the shared ledger. */
  answered: string[];
  /** Frame ids whose answer is an error. */
  errors: string[];
  /** Frame ids marked in flight, with the replica that marked each. */
  inFlight: { frameId: string; replica: string }[];
}

/** The shared ledger of one device, read from Redis (`<prefix>ledger:<device>:<frameId>`). */
export async function readLedger(redis: Redis, keyPrefix: string, deviceId: string): Promise<LedgerView> {
  const head = `${keyPrefix}ledger:${deviceId}:`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${head}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  const values = keys.length > 0 ? await redis.mget(keys) : [];
  const view: LedgerView = { answered: [], errors: [], inFlight: [] };
  for (const [i, raw] of values.entries()) {
    if (raw === null) continue;
    const frameId = keys[i]!.slice(head.length);
    const entry = JSON.parse(raw) as { a?: string; p?: string };
    if (entry.a !== undefined) {
      (JSON.parse(entry.a).type === 'result' ? view.answered : view.errors).push(frameId);
    } else if (entry.p !== undefined) view.inFlight.push({ frameId, replica: entry.p });
  }
  return view;
}
