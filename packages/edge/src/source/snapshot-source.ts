import type { RawImage } from '@squeezegate/shared';
import type { Logger } from 'pino';
import sharp from 'sharp';
import {
  type BackoffOptions,
  type FrameSource,
  realTimers,
  type Scale,
  type SourceHooks,
  type Timers,
} from './frame-source.ts';
import { backoffDelay } from './internal/backoff.ts';
import { SourceCore } from './internal/source-core.ts';
import { scaledSize } from './scale.ts';
import { redactUrl, SourceError, SourceErrorCode } from './source-error.ts';

export interface SnapshotSourceOptions extends SourceHooks {
  camera: string;
  /** A URL that answers each GET with one image (JPEG, PNG or WebP). */
  url: string;
  /** Polls per second. */
  fps: number;
  scale: Scale;
  logger: Logger;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Larger answers are refused; default 20 MB. */
  maxBytes?: number;
  clock?: () => number;
  timers?: Timers;
  random?: () => number;
  backoff?: BackoffOptions;
  fetch?: typeof fetch;
}

const MAX_PIXELS = 24 * 1000 * 1000;

/** Decodes one still and resizes it to the analysis size, with the same even rounding as the ffmpeg path. */
export async function decodeScaled(body: Buffer, scale: Scale): Promise<RawImage> {
  const image = sharp(body, { failOn: 'error', limitInputPixels: MAX_PIXELS });
  const meta = await image.metadata();
  if (!meta.width || !meta.height) throw new Error('image without a size');
  const size = scaledSize(meta.width, meta.height, scale);
  const { data, info } = await image
    .resize(size.width, size.height, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { pixels: data, width: info.width, height: info.height };
}

/**
 * A camera's snapshot URL polled at the analysis rate. It is live: a poll does not wait for the
 * consumer, the newest still wins. A failed poll opens a gap and the next one waits with backoff.
 */
export function createSnapshotSource(options: SnapshotSourceOptions): FrameSource {
  const { camera, url, fps, scale, timeoutMs = 10_000, maxBytes = 20 << 20 } = options;
  const { clock = Date.now, timers = realTimers, random = Math.random, backoff = {} } = options;
  const fetchImpl = options.fetch ?? fetch;
  if (!(fps > 0 && fps <= 120)) throw new RangeError(`fps must be in (0, 120], got ${fps}`);
  const interval = 1000 / fps;
  const log = options.logger.child({ component: 'camera', camera });
  const where = redactUrl(url);
  const core = new SourceCore({
    camera,
    live: true,
    logger: log,
    clock,
    onDrop: options.onDrop,
    onGap: options.onGap,
  });
  const stopping = new AbortController();
  let loop: Promise<void> | null = null;
  let closing: Promise<void> | null = null;

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stopping.signal.aborted) return resolve();
      const done = () => {
        timers.clearTimeout(handle);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const handle = timers.setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  async function grab(): Promise<RawImage> {
    const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(timeoutMs)]);
    const res = await fetchImpl(url, { signal });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`snapshot of ${declared} bytes exceeds ${maxBytes}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > maxBytes) throw new Error(`snapshot of ${body.length} bytes exceeds ${maxBytes}`);
    return decodeScaled(body, scale);
  }

  async function poll(): Promise<void> {
    let attempt = 0;
    let lastOk = clock();
    let failing = false;
    while (!stopping.signal.aborted) {
      const started = clock();
      let wait: number;
      try {
        const raw = await grab();
        if (stopping.signal.aborted) break;
        if (failing) core.restarts += 1;
        failing = false;
        attempt = 0;
        lastOk = clock();
        core.emit(raw, null);
        wait = Math.max(0, started + interval - clock());
      } catch (err) {
        if (stopping.signal.aborted) break;
        const reason = `snapshot failed: ${(err as Error).message}`;
        core.lastError = new SourceError(`camera ${camera} (${where}): ${reason}`, {
          code: SourceErrorCode.CAMERA_FAILED,
          cause: err,
        });
        core.openGapAt(lastOk, reason);
        failing = true;
        wait = backoffDelay(attempt, backoff, random);
        attempt += 1;
        log.warn({ err, delayMs: wait, attempt }, 'camera snapshot failed');
      }
      await sleep(wait);
    }
  }

  function start(): void {
    if (loop !== null || stopping.signal.aborted) return;
    log.info({ source: where, live: true }, 'camera started');
    loop = poll().catch((err: unknown) => log.error({ err }, 'camera snapshot loop failed'));
  }

  async function close(): Promise<void> {
    if (closing !== null) return closing;
    stopping.abort();
    core.channel.end({ discard: true });
    closing = loop ?? Promise.resolve();
    await closing;
  }

  return {
    camera,
    live: true,
    get lastError() {
      return core.lastError;
    },
    frames: ({ signal } = {}) => core.iterate(signal, start, close),
    stats: () => core.stats(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
