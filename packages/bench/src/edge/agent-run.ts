// One run of the real edge agent (packages/edge/dist/main.js, the `squeezegate-edge` CLI), in its
// own process, with its CPU read from /proc while it runs. The agent writes one JSON line per
// frame as soon as the frame is done; at the `warmup`-th line and at every later one, the bench
// reads the agent's CPU (its threads, its ffmpeg children alive or reaped). CPU from the warm-up
// line to the last line, over the frames in between, is the agent's per-frame cost with start-up
// (model load, gateway connect, JIT warm-up) and shutdown left out.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { childrenOf, peakRssMb, treeCpuMs } from './proc-cpu.ts';

export interface AgentRun {
  /** Frames between the warm-up line and the last line. */
  frames: number;
  cpuMs: number;
  msPerFrame: number;
  /** Peak resident set of the agent and its live children (ffmpeg), MiB. */
  rssMb: number;
  /** Every line the agent wrote: one record per frame. */
  records: number;
}

/** The agent stopped without writing a record per frame, or exited with an error. */
export class AgentRunError extends Error {
  override name = 'AgentRunError';
  readonly code = 'AGENT_RUN_FAILED';
}

/** Peak RSS of the agent and its children alive now (ffmpeg): each one's own peak, summed. */
function treePeakRssMb(pid: number): number {
  return (peakRssMb(pid) ?? 0) + childrenOf(pid).reduce((sum, c) => sum + (peakRssMb(c) ?? 0), 0);
}

/**
 * Spawns the agent with `args` and measures it. `stopAfter` sends SIGTERM once that many records
 * are in (a camera that would otherwise run to the end of its file).
 */
export async function runAgent(options: {
  node: string;
  main: string;
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  warmup: number;
  stopAfter?: number;
}): Promise<AgentRun> {
  const { warmup } = options;
  const child = spawn(options.node, [options.main, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new AgentRunError(`the agent did not start: ${options.main}`);
  const tail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let records = 0;
  let first: number | null = null;
  let last: number | null = null;
  let rss = 0;
  for await (const _line of createInterface({ input: child.stdout })) {
    records += 1;
    if (records < warmup) continue;
    const cpu = treeCpuMs(pid);
    if (cpu !== null) {
      if (records === warmup) first = cpu;
      last = cpu;
    }
    rss = Math.max(rss, treePeakRssMb(pid));
    if (options.stopAfter !== undefined && records === options.stopAfter) child.kill('SIGTERM');
  }
  const code = await exited;
  const stopped = options.stopAfter !== undefined && records >= options.stopAfter;
  if ((code !== 0 && !stopped) || first === null || last === null || records <= warmup) {
    throw new AgentRunError(
      `the agent exited with code ${code} after ${records} record(s) (warm-up ${warmup}):\n${tail.join('\n')}`,
    );
  }
  const frames = records - warmup;
  return { frames, cpuMs: last - first, msPerFrame: (last - first) / frames, rssMb: rss, records };
}
