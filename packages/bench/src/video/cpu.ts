import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time so far: this process (every thread), and its children that have exited and been reaped. */
export interface CpuSample {
  selfMs: number;
  /** null where /proc is not there to tell (not Linux). */
  childrenMs: number | null;
}

let ticksPerSecond: number | null | undefined;
function clockTicks(): number | null {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * `cutime` and `cstime` of /proc/self/stat (fields 16 and 17, after the parenthesised command
 * name, which may hold spaces): the CPU of children that have exited and been waited for. Node
 * reaps its children as they exit, so an ffmpeg that has ended is counted here.
 */
export function childrenCpuMs(stat: string, ticks: number): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0: cutime (16) and cstime (17) are at 13 and 14.
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) return null;
  return ((cutime + cstime) * 1000) / ticks;
}

export function cpuSample(): CpuSample {
  const { user, system } = process.cpuUsage();
  let childrenMs: number | null = null;
  try {
    const ticks = clockTicks();
    if (ticks) childrenMs = childrenCpuMs(readFileSync('/proc/self/stat', 'utf8'), ticks);
  } catch {
    childrenMs = null;
  }
  return { selfMs: (user + system) / 1000, childrenMs };
}

/** CPU spent between two samples. */
export function cpuSince(before: CpuSample, after: CpuSample = cpuSample()): CpuSample {
  return {
    selfMs: after.selfMs - before.selfMs,
    childrenMs:
      before.childrenMs === null || after.childrenMs === null ? null : after.childrenMs - before.childrenMs,
  };
}
