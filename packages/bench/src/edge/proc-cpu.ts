// A process's CPU and memory from /proc, while it runs: its own time (every thread), the time of
// the children it has reaped, and the time of the children still alive (ffmpeg, one per camera).
// Sampled at two frame counts, the difference is the CPU of the frames in between, start-up and
// shutdown left out.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The four CPU counters of a /proc/<pid>/stat line, in clock ticks. */
export interface StatTicks {
  utime: number;
  stime: number;
  /** Children that have exited and been waited for. */
  cutime: number;
  cstime: number;
}

/**
 * Fields 14–17 of /proc/<pid>/stat (utime, stime, cutime, cstime). The command name, field 2, is
 * in parentheses and may hold spaces or parentheses itself: fields are counted after its last `)`.
 * Null for a line that does not have them.
 */
export function parseStatTicks(stat: string): StatTicks | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // After the name, field 3 (state) is index 0: fields 14..17 are indexes 11..14.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  if ([utime, stime, cutime, cstime].some((v) => v === undefined || !Number.isFinite(v))) return null;
  return { utime: utime!, stime: stime!, cutime: cutime!, cstime: cstime! };
}

/** The peak resident set (`VmHWM`) of a /proc/<pid>/status text, in MiB; null when absent. */
export function parsePeakRssMb(status: string): number | null {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) / 1024 : null;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

const readOr = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/** The pids `pid` has forked that are still there (alive or not yet reaped), from every thread. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) =>
    (readOr(`/proc/${pid}/task/${tid}/children`) ?? '').split(/\s+/).filter(Boolean).map(Number),
  );
}

/**
 * CPU milliseconds of `pid` and everything below it: its own, its reaped children's, and each live
 * child's (recursively). Null when the process is gone.
 */
export function treeCpuMs(pid: number): number | null {
  const t = parseStatTicks(readOr(`/proc/${pid}/stat`) ?? '');
  if (!t) return null;
  let ms = ((t.utime + t.stime + t.cutime + t.cstime) * 1000) / clockTicks();
  for (const child of childrenOf(pid)) ms += treeCpuMs(child) ?? 0;
  return ms;
}

/** Peak resident set of `pid` so far, in MiB; null when the process is gone. */
export function peakRssMb(pid: number): number | null {
  return parsePeakRssMb(readOr(`/proc/${pid}/status`) ?? '');
}
