import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { type FfmpegInfo, locateFfmpeg } from '../../src/source/ffmpeg.ts';
import type { CapturedFrame, FrameSource } from '../../src/source/frame-source.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');

/** The sample clips (see its README): never copied into the repo. */
export const videoDir = path.resolve(
  repoRoot,
  process.env.SQUEEZEGATE_VIDEO_DIR ?? '../shared/datasets/video-sample',
);
export const haveVideos = ['car-detection.mp4', 'bottle-detection.mp4', 'vtest.avi'].every((f) =>
  existsSync(path.join(videoDir, f)),
);
if (!haveVideos && process.env.CI) {
  throw new Error(`video tests need the sample clips in ${videoDir}; set SQUEEZEGATE_VIDEO_DIR`);
}

let ffmpeg: Promise<FfmpegInfo> | null = null;
/**
 * The ffmpeg the agent would find: the `@ffmpeg-installer/ffmpeg` static 4.1 here, or the one in
 * SQUEEZEGATE_FFMPEG (e.g. Debian's 5.1 at /usr/bin/ffmpeg) to run these tests against it.
 */
export function testFfmpeg(): Promise<FfmpegInfo> {
  ffmpeg ??= locateFfmpeg({ env: process.env.SQUEEZEGATE_FFMPEG });
  return ffmpeg;
}

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger that keeps its records, to assert on what a source logged. */
export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** Polls `check` until it returns a value other than undefined/false; fails with `what` after the deadline. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  { what, deadlineMs = 60_000, everyMs = 50 }: { what: string; deadlineMs?: number; everyMs?: number },
): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Pids of this process's children whose command line contains `needle`. */
export function childrenMatching(needle: string): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -o'))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((pid) => Number.isInteger(pid));
}

/** Iterates a source in the background, keeping every frame (pixels dropped unless `keepPixels`). */
export function drain(source: FrameSource, { keepPixels = false } = {}) {
  const frames: CapturedFrame[] = [];
  const done = (async () => {
    for await (const frame of source.frames()) {
      if (!keepPixels && frame.image.kind === 'raw') {
        const { width, height, pixels } = frame.image.raw;
        frames.push({
          ...frame,
          image: { kind: 'raw', raw: { width, height, pixels: Buffer.from(pixels.subarray(0, 3)) } },
        });
      } else frames.push(frame);
    }
  })();
  return { frames, done };
}

export function meanOf(pixels: Buffer): number {
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 97) sum += pixels[i] ?? 0;
  return sum / Math.ceil(pixels.length / 97);
}
