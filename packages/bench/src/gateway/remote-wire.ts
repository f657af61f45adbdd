// The remote cloud tier's wire: JSON against binary tensor data (Triton's extension), through the
// remote backend (createOipBackend) against a second, real gateway process (B), with a counting
// TCP proxy between them. Both wires run in the same process against the same B, alternating
// rounds, so the ratio holds on a noisy machine where the absolute figures do not.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createOipBackend } from '@squeezegate/gateway';
import { getModelSpec } from '@squeezegate/shared';

export type Wire = 'json' | 'binary';

/** One wire's figures, summed over its rounds. */
export interface WireResult {
  wire: Wire;
  requests: number;
  frames: number;
  /** Bytes from the backend to B per request (HTTP headers included), and back. */
  upBytesPerRequest: number;
  downBytesPerRequest: number;
  /** Both ways, per frame. */
  bytesPerFrame: number;
  framesPerSec: number;
  /** CPU of this process (the client: encoding, decoding) per frame. */
  clientCpuMsPerFrame: number;
  /** CPU of gateway B (parsing, inference) per frame, from /proc; null where there is none. */
  serverCpuMsPerFrame: number | null;
}

export interface RemoteWireOptions {
  /** dist/main.js of the gateway package: B runs it. */
  gatewayBin: string;
  modelsDir: string;
  /** Preprocessed tensors of the cloud model, used in turn. */
  tensors: readonly Float32Array[];
  /** Frames per wire per round. */
  frames: number;
  /** Frames per request. */
  batch: number;
  /** Requests in flight. */
  concurrency: number;
  /** Rounds of json then binary. */
  rounds: number;
  log?: (line: string) => void;
}

export interface RemoteWireResults {
  model: string;
  settings: { frames: number; batch: number; concurrency: number; rounds: number };
  json: WireResult;
  binary: WireResult;
  /** json / binary bytes per frame, and binary / json frames per second. */
  bytesRatio: number;
  speedup: number;
  /** Frames whose top-1 is the same over both wires (float32 crosses both exactly: 1). */
  top1Agreement: number;
}

const CLOUD_MODEL = 'mobilenetv2-12-int8';

/** Starts gateway B and measures both wires through the remote backend; stops B at the end. */
export async function measureRemoteWire(options: RemoteWireOptions): Promise<RemoteWireResults> {
  const { frames, batch, concurrency, rounds, tensors } = options;
  const log = options.log ?? (() => {});
  const spec = getModelSpec(CLOUD_MODEL)!;
  const token = randomBytes(16).toString('hex');
  const b = await startGateway(options.gatewayBin, [
    '--admin-token',
    token,
    '--models-dir',
    options.modelsDir,
  ]);
  const proxy = await countingProxy(b.port);
  const sum = (wire: Wire) => ({
    wire,
    requests: 0,
    frames: 0,
    up: 0,
    down: 0,
    ms: 0,
    clientCpuMs: 0,
    serverCpuMs: 0,
  });
  const totals = { json: sum('json'), binary: sum('binary') };
  const top1: Record<Wire, number[]> = { json: [], binary: [] };
  try {
    for (let round = -1; round < rounds; round++) {
      for (const wire of ['json', 'binary'] as const) {
        await using backend = await createOipBackend({
          url: `http://127.0.0.1:${proxy.port}`,
          model: spec.id,
          spec,
          binary: wire === 'binary',
          headers: { Authorization: `Bearer ${token}` },
          concurrency,
          timeoutMs: 120_000,
        });
        // Round -1 warms B's session and both code paths; it is not counted.
        const n = round < 0 ? Math.min(frames, 2 * batch * concurrency) : frames;
        const before = { ...proxy.counts, cpu: process.cpuUsage(), server: processCpuMs(b.child.pid) };
        const started = performance.now();
        let next = 0;
        let requests = 0;
        const worker = async () => {
          while (next < n) {
            const first = next;
            next = Math.min(n, next + batch);
            const inputs = Array.from(
              { length: next - first },
              (_, i) => tensors[(first + i) % tensors.length]!,
            );
            const logits = await backend.run(inputs);
            requests++;
            if (round === 0) {
              for (const [i, l] of logits.entries()) top1[wire][first + i] = argmax(l);
            }
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        const ms = performance.now() - started;
        if (round < 0) continue;
        const cpu = process.cpuUsage(before.cpu);
        const t = totals[wire];
        t.requests += requests;
        t.frames += n;
        t.up += proxy.counts.up - before.up;
        t.down += proxy.counts.down - before.down;
        t.ms += ms;
        t.clientCpuMs += (cpu.user + cpu.system) / 1000;
        const server = processCpuMs(b.child.pid);
        // NaN from then on when /proc is not there.
        t.serverCpuMs += server === null || before.server === null ? Number.NaN : server - before.server;
        log(
          `round ${round + 1}/${rounds} ${wire.padEnd(6)} ${((n / ms) * 1000).toFixed(1)} frames/s, ${Math.round((proxy.counts.up - before.up) / requests)} B up per request`,
        );
      }
    }
  } finally {
    await proxy.close();
    b.child.kill('SIGTERM');
    await once(b.child, 'exit');
  }
  const result = (t: (typeof totals)[Wire]): WireResult => ({
    wire: t.wire,
    requests: t.requests,
    frames: t.frames,
    upBytesPerRequest: Math.round(t.up / t.requests),
    downBytesPerRequest: Math.round(t.down / t.requests),
    bytesPerFrame: Math.round((t.up + t.down) / t.frames),
    framesPerSec: (t.frames / t.ms) * 1000,
    clientCpuMsPerFrame: t.clientCpuMs / t.frames,
    serverCpuMsPerFrame: Number.isNaN(t.serverCpuMs) ? null : t.serverCpuMs / t.frames,
  });
  const json = result(totals.json);
  const binary = result(totals.binary);
  const agree = top1.json.filter((c, i) => c === top1.binary[i]).length;
  return {
    model: spec.id,
    settings: { frames, batch, concurrency, rounds },
    json,
    binary,
    bytesRatio: json.bytesPerFrame / binary.bytesPerFrame,
    speedup: binary.framesPerSec / json.framesPerSec,
    top1Agreement: agree / Math.max(1, top1.json.length),
  };
}

const argmax = (xs: Float32Array) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** A gateway process on a free port; resolves once it listens. */
async function startGateway(bin: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [bin, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (lines.length < 50) lines.push(line);
      let entry: { msg?: string; port?: number } = {};
      try {
        entry = JSON.parse(line);
      } catch {
        // Not a log line: kept for the error message only.
      }
      if (entry.msg === 'gateway listening') resolve({ child, port: entry.port! });
    });
    child.once('exit', (code) =>
      reject(new Error(`gateway B exited (${code}) before listening:\n${lines.join('\n')}`)),
    );
  });
}

/** CPU time (user + system) of a process so far, from /proc (Linux, 100 ticks a second). */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** A TCP proxy to 127.0.0.1:`port` counting the bytes each way. */
async function countingProxy(port: number) {
  const counts = { up: 0, down: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const remote = connect(port, '127.0.0.1');
    for (const s of [client, remote]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        remote.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => (counts.up += d.length));
    remote.on('data', (d: Buffer) => (counts.down += d.length));
    client.pipe(remote).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    counts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
