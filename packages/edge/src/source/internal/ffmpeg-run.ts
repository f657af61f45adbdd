import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { FfmpegHeaderReader, failureLine } from '../ffmpeg-args.ts';
import { SourceErrorCode } from '../source-error.ts';
import { FrameSlicer } from './frame-slicer.ts';
import { LineRing } from './line-ring.ts';

/** Bytes buffered before ffmpeg has said its output size: far more than a header ever takes. */
const MAX_PENDING_BYTES = 64 << 20;

/** stderr lines of a damaged input (demuxer or decoder). */
const INPUT_ERROR =
  /corrupt|invalid data|error while decoding|partial file|truncat|invalid nal|error splitting|error at mb|damaged|concealing/i;

/**
 * A file whose last input error came this close to its last frame ended in damage; a glitch in
 * the middle is followed by many more frames. Backpressure keeps ffmpeg at most a few frames
 * ahead of the frames counted here, so the count when the line arrives is where the error was.
 */
const ERROR_AT_END_FRAMES = 3;

export interface FfmpegRunOptions {
  path: string;
  args: string[];
  clock: () => number;
  log: Logger;
  /** A whole frame; `index` counts this child's frames from 0. */
  /** `at`: when the frame was read (the clock's reading that `lastFrameAt` also holds). */
  onFrame: (pixels: Buffer, size: { width: number; height: number }, index: number, at: number) => void;
  /** Once, after the child exited and its pipes closed (all frames delivered). */
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** One ffmpeg child: its output cut into frames, its stderr read for the header and kept in a ring. */
export class FfmpegRun {
  readonly ring = new LineRing(20);
  readonly header = new FfmpegHeaderReader();
  readonly startedAt: number;
  frames = 0;
  firstFrameAt: number | null = null;
  lastFrameAt: number | null = null;
  /** The last line saying the input is damaged, and the frame count when it came. */
  inputError: { line: string; atFrame: number } | null = null;
  /** Set when the source itself ended the child (stall, bad output, close). */
  stopReason: string | null = null;
  spawnError: Error | null = null;
  readonly exited: Promise<void>;
  private slicer: FrameSlicer | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(
    readonly child: ChildProcessByStdio<null, Readable, Readable>,
    private readonly options: FfmpegRunOptions,
  ) {
    this.startedAt = options.clock();
    let finished = false;
    let resolveExit = () => {};
    this.exited = new Promise((resolve) => {
      resolveExit = resolve;
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      resolveExit();
      options.onExit(code, signal);
    };
    child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => this.onStderr(text));
    child.stdout.on('error', (err) => options.log.debug({ err }, 'ffmpeg stdout error'));
    child.stderr.on('error', (err) => options.log.debug({ err }, 'ffmpeg stderr error'));
    child.on('error', (err) => {
      this.spawnError = err;
      // A child that never started does not emit 'close' on every Node version.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', finish);
  }

  /** Spawns ffmpeg with an argv array (never a shell). */
  static start(options: FfmpegRunOptions): FfmpegRun {
    const child = spawn(options.path, options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new FfmpegRun(child, options);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.spawnError === null;
  }

  /** Bytes of a frame cut short when the output ended. */
  get cutBytes(): number {
    return this.slicer?.pendingBytes ?? 0;
  }

  pause(): void {
    this.child.stdout.pause();
  }

  resume(): void {
    this.child.stdout.resume();
  }

  /** SIGTERM, then SIGKILL after `graceMs` (real timers); resolves once the child has exited. */
  stop(reason: string, graceMs: number): Promise<void> {
    this.stopReason ??= reason;
    // A paused pipe would keep ffmpeg blocked in write() through SIGTERM: let it drain.
    this.child.stdout.resume();
    if (this.running) {
      this.child.kill('SIGTERM');
      const kill = setTimeout(() => {
        if (!this.running) return;
        this.options.log.warn({ pid: this.child.pid, graceMs }, 'ffmpeg ignored SIGTERM, killing');
        this.child.kill('SIGKILL');
      }, graceMs);
      kill.unref();
      void this.exited.then(() => clearTimeout(kill));
    }
    return this.exited;
  }

  /** Why a file that ffmpeg finished with code 0 is not whole, or null when it is. */
  fileDamage(fps: number): { code: SourceErrorCode; message: string } | null {
    const tail = this.ring.tail();
    if (this.header.size === null) {
      return { code: SourceErrorCode.BAD_OUTPUT, message: `ffmpeg gave no video: ${failureLine(tail)}` };
    }
    const decodedMs = (this.frames * 1000) / fps;
    const durationMs = this.header.durationMs;
    const slack = Math.max(2000, 2000 / fps, (durationMs ?? 0) * 0.05);
    const short = durationMs !== null && decodedMs + slack < durationMs;
    const endedInError =
      this.inputError !== null && this.frames - this.inputError.atFrame <= ERROR_AT_END_FRAMES;
    if (!short && !endedInError && this.cutBytes === 0) return null;
    const of = durationMs === null ? '' : ` of ${(durationMs / 1000).toFixed(1)} s`;
    const then = this.inputError?.line ?? failureLine(tail);
    return {
      code: SourceErrorCode.FILE_TRUNCATED,
      message: `truncated or corrupt: decoded ${(decodedMs / 1000).toFixed(1)} s${of}, then ${then}`,
    };
  }

  private onStdout(chunk: Buffer): void {
    if (this.stopReason !== null) return;
    const size = this.header.size;
    if (this.slicer === null || size === null) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > MAX_PENDING_BYTES)
        void this.stop('ffmpeg wrote frames but never said their size', 3000);
      return;
    }
    this.slicer.push(chunk, (pixels) => {
      const now = this.options.clock();
      this.firstFrameAt ??= now;
      this.lastFrameAt = now;
      const index = this.frames++;
      this.options.onFrame(pixels, size, index, now);
    });
  }

  private onStderr(text: string): void {
    for (const line of this.ring.write(text)) {
      if (INPUT_ERROR.test(line)) this.inputError = { line, atFrame: this.frames };
      if (!this.header.line(line) || this.header.size === null) continue;
      const { width, height } = this.header.size;
      this.slicer = new FrameSlicer(width * height * 3);
      this.options.log.debug({ width, height, durationMs: this.header.durationMs }, 'camera output size');
      const pending = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      for (const chunk of pending) this.onStdout(chunk);
    }
  }
}
