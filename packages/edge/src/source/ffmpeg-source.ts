import type { Logger } from 'pino';
import type { FfmpegInfo } from './ffmpeg.ts';
import { buildFfmpegArgs, type FfmpegInput, failureLine } from './ffmpeg-args.ts';
import {
  type BackoffOptions,
  type FrameSource,
  realTimers,
  type Scale,
  type SourceHooks,
  type Timers,
} from './frame-source.ts';
import { backoffDelay } from './internal/backoff.ts';
import { FfmpegRun } from './internal/ffmpeg-run.ts';
import { SourceCore } from './internal/source-core.ts';
import { redactUrl, SourceError, SourceErrorCode } from './source-error.ts';

export interface FfmpegSourceOptions extends SourceHooks {
  camera: string;
  input: FfmpegInput;
  /** Analysis rate, frames per second. */
  fps: number;
  scale: Scale;
  ffmpeg: FfmpegInfo;
  /** The caller's logger; the source logs through `child({ component: 'camera', camera })`. */
  logger: Logger;
  clock?: () => number;
  /** Restart backoff and the stall watchdog run on these; the SIGKILL grace uses real timers. */
  timers?: Timers;
  random?: () => number;
  backoff?: BackoffOptions;
  /** Live sources: a child that gives no frame for this long is killed and restarted. Default max(20 s, 5 frame intervals). */
  stallTimeoutMs?: number;
  /** A child that ran this long after its first frame resets the backoff; default 10 s. */
  stableMs?: number;
  /** Between SIGTERM and SIGKILL; default 3 s. */
  killGraceMs?: number;
  /** asap files: frames decoded ahead of the consumer before ffmpeg is paused; default 2. */
  readAhead?: number;
}

function describe(input: FfmpegInput): string {
  switch (input.kind) {
    case 'file':
      return input.path;
    case 'rtsp':
    case 'mjpeg':
      return redactUrl(input.url);
    case 'v4l2':
      return input.device;
  }
}

/**
 * A camera read by one supervised ffmpeg child that decodes to raw RGB at the analysis size and
 * rate. Files paced `asap` are read as fast as the consumer takes frames (backpressure, no drops)
 * and end at their end; live sources (network, device, realtime files) are read all the time into
 * a one-frame slot, and restarted with backoff and jitter when the stream ends, stalls or ffmpeg
 * dies. A file never restarts after a decode failure: it ends, with `lastError` saying why.
 * Nothing runs until `frames()` is iterated.
 */
export function createFfmpegSource(options: FfmpegSourceOptions): FrameSource {
  const { camera, input, fps, scale, ffmpeg, timers = realTimers, random = Math.random } = options;
  const { clock = Date.now, backoff = {}, killGraceMs = 3000, readAhead = 2, stableMs = 10_000 } = options;
  const stallTimeoutMs = options.stallTimeoutMs ?? Math.max(20_000, 5000 / fps);
  const args = buildFfmpegArgs({ input, fps, scale, rtspTimeoutOption: ffmpeg.rtspTimeoutOption });
  const isFile = input.kind === 'file';
  const loops = input.kind === 'file' && input.loop;
  const live = !isFile || input.pace === 'realtime';
  const log = options.logger.child({ component: 'camera', camera });
  const where = describe(input);

  let current: FfmpegRun | null = null;
  let closed = false;
  let closing: Promise<void> | null = null;
  let attempt = 0;
  let fileFrames = 0;
  let restartTimer: unknown = null;
  let stallTimer: unknown = null;

  const core = new SourceCore({
    camera,
    live,
    logger: log,
    clock,
    onDrop: options.onDrop,
    onGap: options.onGap,
    onTake: () => {
      if (!live && core.channel.size < readAhead) current?.resume();
    },
  });

  function armStallWatch(run: FfmpegRun): void {
    if (!live) return;
    const wait = Math.max(0, (run.lastFrameAt ?? run.startedAt) + stallTimeoutMs - clock());
    stallTimer = timers.setTimeout(() => {
      stallTimer = null;
      if (run !== current || run.stopReason !== null) return;
      const idle = clock() - (run.lastFrameAt ?? run.startedAt);
      if (idle >= stallTimeoutMs) void run.stop(`no frame for ${Math.round(idle / 1000)} s`, killGraceMs);
      else armStallWatch(run);
    }, wait);
  }

  function start(): void {
    if (closed || current !== null) return;
    const run: FfmpegRun = FfmpegRun.start({
      path: ffmpeg.path,
      args,
      clock,
      log,
      onFrame: (pixels, size, _index, at) => {
        if (closed || run.stopReason !== null) return;
        core.emit(
          { pixels, width: size.width, height: size.height },
          // Counted over every child, so a looping file restarted after a kill keeps going forward.
          isFile ? Math.round((fileFrames++ * 1000) / fps) : null,
          // The reading the run keeps as lastFrameAt, where a gap after this frame starts.
          at,
        );
        if (!live && core.channel.size >= readAhead) run.pause();
      },
      onExit: (code, signal) => onExit(run, code, signal),
    });
    current = run;
    log.info({ source: where, pid: run.child.pid, ffmpeg: ffmpeg.path, live }, 'camera started');
    armStallWatch(run);
  }

  function onExit(run: FfmpegRun, code: number | null, signal: NodeJS.Signals | null): void {
    if (run === current) {
      current = null;
      if (stallTimer !== null) timers.clearTimeout(stallTimer);
      stallTimer = null;
    }
    const tail = run.ring.tail();
    const exit = { code, signal, frames: run.frames, pid: run.child.pid, cutBytes: run.cutBytes };
    if (closed) {
      log.debug(exit, 'camera child ended on close');
      core.channel.end();
      return;
    }
    const exitText =
      run.spawnError !== null
        ? `ffmpeg did not start: ${run.spawnError.message}`
        : signal !== null
          ? `ffmpeg killed by ${signal}`
          : `ffmpeg exited with code ${code}`;
    const reason = run.stopReason ?? (code === 0 ? 'stream ended' : `${exitText}: ${failureLine(tail)}`);
    if (isFile && run.stopReason === null && code === 0 && !loops) {
      const damage = run.fileDamage(fps);
      if (damage === null) log.info(exit, 'camera file ended');
      else {
        core.lastError = new SourceError(`${where}: ${damage.message}`, {
          code: damage.code,
          stderrTail: tail,
        });
        log.error({ ...exit, reason: damage.message, stderr: tail }, 'camera file damaged');
      }
      core.channel.end();
      return;
    }
    // A looping file whose child was killed restarts like a camera; any other failing file ends.
    if (isFile && !(loops && (signal !== null || run.stopReason !== null))) {
      core.lastError = new SourceError(`cannot decode ${where}: ${reason}`, {
        code: SourceErrorCode.DECODE_FAILED,
        stderrTail: tail,
      });
      log.error({ ...exit, stderr: tail }, 'camera file failed to decode');
      core.channel.end();
      return;
    }
    core.lastError = new SourceError(`camera ${camera} (${where}): ${reason}`, {
      code: SourceErrorCode.CAMERA_FAILED,
      stderrTail: tail,
    });
    log.warn({ ...exit, reason, stderr: tail }, 'camera child died');
    core.openGapAt(run.lastFrameAt ?? run.startedAt, reason);
    if (run.firstFrameAt !== null && (run.lastFrameAt ?? 0) - run.firstFrameAt >= stableMs) attempt = 0;
    const delayMs = backoffDelay(attempt, backoff, random);
    attempt += 1;
    log.info({ delayMs, attempt }, 'camera restart scheduled');
    restartTimer = timers.setTimeout(() => {
      restartTimer = null;
      if (closed) return;
      core.restarts += 1;
      start();
    }, delayMs);
  }

  async function close(): Promise<void> {
    if (closing !== null) return closing;
    closed = true;
    if (restartTimer !== null) timers.clearTimeout(restartTimer);
    if (stallTimer !== null) timers.clearTimeout(stallTimer);
    restartTimer = null;
    stallTimer = null;
    core.channel.end({ discard: true });
    closing = current === null ? Promise.resolve() : current.stop('closed', killGraceMs);
    await closing;
    log.debug(core.stats(), 'camera closed');
  }

  return {
    camera,
    live,
    get lastError() {
      return core.lastError;
    },
    frames: ({ signal } = {}) => core.iterate(signal, start, close),
    stats: () => core.stats(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
