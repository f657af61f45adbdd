// Helpers of the chaos test: the gateway as its own process, and the link's timeline as the
// test saw it. Every instant is `performance.now()` in the test process.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { EdgeRuntime, GatewayLink, LinkState } from '@squeezegate/edge';
import { modelsDir, repoRoot } from '../support/env.ts';

const GATEWAY_BIN = path.join(repoRoot, 'packages/gateway/dist/main.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  spawnedAt: number;
  listeningAt: number;
  /** Spawn to "gateway listening": this machine's start time, measured, not assumed. */
  startMs: number;
}

/** Starts the gateway as its own process on a free port; resolves once it logs that it listens. */
export async function startGateway(args: readonly string[]): Promise<GatewayProcess> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [GATEWAY_BIN, '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    let entry: { msg?: unknown; port?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.msg === 'gateway listening' && typeof entry.port === 'number') {
      const listeningAt = performance.now();
      return { child, port: entry.port, spawnedAt, listeningAt, startMs: listeningAt - spawnedAt };
    }
  }
  throw new Error(`gateway exited before listening: ${stderr}`);
}

/** SIGKILLs a gateway; resolves with the instant the signal was sent, once the process is gone. */
export async function killGateway(gw: GatewayProcess): Promise<number> {
  const at = performance.now();
  const exited = once(gw.child, 'exit');
  gw.child.kill('SIGKILL');
  await exited;
  return at;
}

/** Polls `cond` until it holds; throws with `what` after `timeoutMs` (generous: a deadline, not a measure). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** One stretch with the link down, as the test saw it. */
export interface Outage {
  /** The gateway was SIGKILLed. */
  killedAt: number;
  /** The test first saw the link not open (at or after the link itself noticed). */
  downSeenAt: number;
  /** The relay let connections through again, to the next gateway: nothing is answered before. */
  reopenedAt: number;
  /** The test first saw the link open again (at or after it reopened). */
  upSeenAt: number;
}

/**
 * Records the link's state changes, polled every couple of milliseconds. A transition is seen
 * at or after it happens, never before: the windows built from them are sound for the rules
 * that use them (see chaos.test.ts).
 */
export function watchLink(runtime: EdgeRuntime) {
  const link = runtime.link as GatewayLink;
  const changes: { at: number; state: LinkState }[] = [{ at: performance.now(), state: link.state }];
  const timer = setInterval(() => {
    if (link.state !== changes.at(-1)!.state) changes.push({ at: performance.now(), state: link.state });
  }, 1);
  return {
    changes,
    /** How many times the link went from open to anything else. */
    drops: () =>
      changes.filter((c, i) => i > 0 && c.state !== 'open' && changes[i - 1]!.state === 'open').length,
    /** The first instant after `t` at which the link was seen `open` (or not open). */
    seen(state: 'open' | 'down', after: number): number | null {
      const c = changes.find((c) => c.at >= after && (state === 'open') === (c.state === 'open'));
      return c?.at ?? null;
    },
    stop: () => clearInterval(timer),
  };
}
