// The gateway the video bench offloads to, in its own process: the cloud model's CPU must not be
// counted as the edge's (process.cpuUsage covers every thread of a process, worker threads too).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { EDGE_WS_PATH } from '@squeezegate/shared';

export interface DeviceCredential {
  id: string;
  token: string;
}

export interface GatewayProcess {
  /** ws://127.0.0.1:PORT/v1/edge */
  readonly edgeUrl: string;
  readonly devices: readonly DeviceCredential[];
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A gateway failed to start: its exit or silence, with the last lines it wrote. */
export class GatewayStartError extends Error {
  override name = 'GatewayStartError';
  readonly code = 'GATEWAY_START_FAILED';
}

/** Device ids and fresh random tokens, one per name. */
export const newDevices = (ids: readonly string[]): DeviceCredential[] =>
  ids.map((id) => ({ id, token: randomBytes(18).toString('base64url') }));

/**
 * Starts `packages/gateway/src/main.ts` (through tsx, as the benches run) on a free loopback
 * port with `devices`, and resolves when it logs that it listens.
 */
export async function startGatewayProcess(options: {
  root: string;
  modelsDir: string;
  devices: readonly DeviceCredential[];
  /** The environment the child starts from (the caller's); device tokens go in through it, not argv. */
  env: Readonly<Record<string, string | undefined>>;
  nodePath: string;
  timeoutMs?: number;
  killGraceMs?: number;
}): Promise<GatewayProcess> {
  const { root, modelsDir, devices, timeoutMs = 120_000, killGraceMs = 5_000 } = options;
  const child = spawn(
    options.nodePath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      path.join(root, 'packages/gateway/src/main.ts'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--models-dir',
      modelsDir,
      '--log-level',
      'info',
    ],
    {
      cwd: root,
      env: { ...options.env, SQUEEZEGATE_DEVICES: devices.map((d) => `${d.id}:${d.token}`).join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (err) => keep(`spawn failed: ${err.message}`));
  createInterface({ input: child.stderr }).on('line', keep);
  const lines = createInterface({ input: child.stdout });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`no "gateway listening" within ${timeoutMs} ms`), timeoutMs);
    function fail(why: string) {
      clearTimeout(timer);
      lines.off('line', onLine);
      reject(new GatewayStartError(`the gateway did not start: ${why}\n${tail.join('\n')}`));
    }
    function onLine(line: string) {
      keep(line);
      if (!line.includes('"gateway listening"')) return;
      const port = (JSON.parse(line) as { port?: unknown }).port;
      clearTimeout(timer);
      lines.off('line', onLine);
      if (typeof port === 'number') resolve(port);
      else fail(`its listening line has no port: ${line}`);
    }
    lines.on('line', onLine);
    void exited.then((code) => fail(`it exited with code ${code}`));
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });
  // Keep draining its log so the pipe never fills.
  lines.on('line', keep);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      await exited;
      clearTimeout(timer);
    })();
    return closing;
  };
  return {
    edgeUrl: `ws://127.0.0.1:${port}${EDGE_WS_PATH}`,
    devices,
    close,
    [Symbol.asyncDispose]: close,
  };
}
