import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { openDirectoryFrameSource } from './directory-frame-source.ts';
import { type FfmpegInfo, locateFfmpeg } from './ffmpeg.ts';
import { createFfmpegSource, type FfmpegSourceOptions } from './ffmpeg-source.ts';
import type { BackoffOptions, FrameSource, Scale, SourceHooks, Timers } from './frame-source.ts';
import { checkScale } from './scale.ts';
import { createSnapshotSource } from './snapshot-source.ts';
import { redactUrl, SourceError, SourceErrorCode } from './source-error.ts';

const VIDEO_EXT = /\.(mp4|mkv|avi|mov)$/i;
const V4L2_DEVICE = /^\/dev\/video\d+$/;

/** Whether a source is a camera or video (a URL, a V4L2 device, a video file) rather than a folder, by its text alone. */
export const looksLikeVideo = (source: string) =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || V4L2_DEVICE.test(source) || VIDEO_EXT.test(source);

/** Where frames come from, as told by `--source`. */
export type SourceKind =
  | { kind: 'file'; path: string }
  | { kind: 'directory'; path: string }
  | { kind: 'rtsp'; url: string }
  | { kind: 'http'; url: string }
  | { kind: 'v4l2'; device: string };

/** Reads a `--source` value: a URL by its scheme, a V4L2 device by its path, a file by its extension, else a folder. */
export async function classifySource(source: string): Promise<SourceKind> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') return { kind: 'rtsp', url: source };
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url: source };
  if (scheme !== undefined) {
    throw new SourceError(`unsupported source scheme ${scheme}:// in ${redactUrl(source)}`, {
      code: SourceErrorCode.UNSUPPORTED_SOURCE,
    });
  }
  if (V4L2_DEVICE.test(source)) return { kind: 'v4l2', device: source };
  const full = path.resolve(source);
  const info = await stat(full).catch((cause: unknown) => {
    throw new SourceError(`cannot read source ${source}: ${(cause as Error).message}`, { cause });
  });
  if (info.isDirectory()) return { kind: 'directory', path: full };
  if (VIDEO_EXT.test(full)) return { kind: 'file', path: full };
  throw new SourceError(`${source} is neither a folder nor a video file (.mp4, .mkv, .avi, .mov)`, {
    code: SourceErrorCode.UNSUPPORTED_SOURCE,
  });
}

/** A camera id from its source: the file or folder name, the URL's host and path, the device name. */
export function cameraIdFrom(kind: SourceKind): string {
  const raw = (() => {
    switch (kind.kind) {
      case 'file':
        return path.basename(kind.path, path.extname(kind.path));
      case 'directory':
        return path.basename(kind.path);
      case 'v4l2':
        return path.basename(kind.device);
      case 'rtsp':
      case 'http': {
        const u = new URL(kind.url);
        return `${u.hostname}${u.port ? `-${u.port}` : ''}${u.pathname}`;
      }
    }
  })();
  return (
    raw
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'camera'
  );
}

export interface FrameSourceSpec extends SourceHooks {
  /** A video file, folder, `rtsp(s)://`, `http(s)://` URL or `/dev/videoN`. */
  source: string;
  camera?: string | undefined;
  /** Analysis rate; default 5. Folders: the replay pace when `pace` is realtime. */
  fps?: number | undefined;
  scale: Scale;
  /** Video files: replay forever. */
  loop?: boolean | undefined;
  /** Video files and folders: `asap` (default) or `realtime` (a live camera: drops when the consumer lags). */
  pace?: 'asap' | 'realtime' | undefined;
  rtspTransport?: 'tcp' | 'udp' | undefined;
  /** Network connect/read timeout; default 10 s. */
  timeoutMs?: number | undefined;
  /** HTTP sources: skip the one request that tells an MJPEG stream from a snapshot URL. */
  httpKind?: 'mjpeg' | 'snapshot' | undefined;
  v4l2?: { inputFormat?: string | undefined; videoSize?: string | undefined } | undefined;
  /** Folders: labels, limit, offset, stride of the folder source. */
  directory?:
    | { labels?: string | undefined; limit?: number | undefined; offset?: number; stride?: number }
    | undefined;
  /** The ffmpeg to use, probed once per agent; default `locateFfmpeg()`. */
  ffmpeg?: FfmpegInfo | undefined;
  logger: Logger;
  clock?: () => number;
  timers?: Timers;
  random?: () => number;
  backoff?: BackoffOptions;
  stallTimeoutMs?: number | undefined;
  fetch?: typeof fetch;
  /** Aborts the opening (the HTTP probe), not the source. */
  signal?: AbortSignal | undefined;
}

/** One GET: `multipart/x-mixed-replace` is an MJPEG stream, `image/*` a snapshot URL. */
export async function probeHttpKind(
  url: string,
  options: { timeoutMs: number; fetch?: typeof fetch | undefined; signal?: AbortSignal | undefined },
): Promise<'mjpeg' | 'snapshot'> {
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { signal: AbortSignal.any(signals) });
  } catch (cause) {
    throw new SourceError(`camera ${redactUrl(url)} did not answer: ${(cause as Error).message}`, {
      code: SourceErrorCode.SOURCE_UNREACHABLE,
      cause,
    });
  }
  const type = res.headers.get('content-type') ?? '';
  await res.body?.cancel().catch(() => {});
  if (!res.ok) {
    throw new SourceError(`camera ${redactUrl(url)} answered HTTP ${res.status}`, {
      code: SourceErrorCode.SOURCE_UNREACHABLE,
    });
  }
  if (/^multipart\/x-mixed-replace/i.test(type)) return 'mjpeg';
  if (/^image\//i.test(type)) return 'snapshot';
  throw new SourceError(`${redactUrl(url)} sends "${type}": neither an MJPEG stream nor an image`, {
    code: SourceErrorCode.UNSUPPORTED_SOURCE,
  });
}

/** Opens the right source for `spec.source`; the agent never needs to know which it got. */
export async function openFrameSource(spec: FrameSourceSpec): Promise<FrameSource> {
  const { fps = 5, timeoutMs = 10_000, logger } = spec;
  checkScale(spec.scale);
  const kind = await classifySource(spec.source);
  const camera = spec.camera ?? cameraIdFrom(kind);
  const hooks = { onDrop: spec.onDrop, onGap: spec.onGap };
  const runtime = {
    ...(spec.clock ? { clock: spec.clock } : {}),
    ...(spec.timers ? { timers: spec.timers } : {}),
    ...(spec.random ? { random: spec.random } : {}),
    ...(spec.backoff ? { backoff: spec.backoff } : {}),
  };
  if (kind.kind === 'directory') {
    return openDirectoryFrameSource({
      dir: kind.path,
      camera,
      fps: spec.pace === 'realtime' ? fps : 0,
      ...spec.directory,
    });
  }
  let httpKind = spec.httpKind;
  if (kind.kind === 'http' && httpKind === undefined) {
    httpKind = await probeHttpKind(kind.url, { timeoutMs, fetch: spec.fetch, signal: spec.signal });
  }
  if (kind.kind === 'http' && httpKind === 'snapshot') {
    return createSnapshotSource({
      camera,
      url: kind.url,
      fps,
      scale: spec.scale,
      logger,
      timeoutMs,
      ...hooks,
      ...runtime,
      ...(spec.fetch ? { fetch: spec.fetch } : {}),
    });
  }
  const ffmpeg = spec.ffmpeg ?? (await locateFfmpeg());
  const input: FfmpegSourceOptions['input'] = (() => {
    switch (kind.kind) {
      case 'file':
        return {
          kind: 'file',
          path: kind.path,
          loop: spec.loop ?? false,
          pace: spec.pace ?? 'asap',
        } as const;
      case 'rtsp':
        return { kind: 'rtsp', url: kind.url, transport: spec.rtspTransport ?? 'tcp', timeoutMs } as const;
      case 'http':
        return { kind: 'mjpeg', url: kind.url, timeoutMs } as const;
      case 'v4l2':
        return { kind: 'v4l2', device: kind.device, ...spec.v4l2 } as const;
    }
  })();
  return createFfmpegSource({
    camera,
    input,
    fps,
    scale: spec.scale,
    ffmpeg,
    logger,
    ...hooks,
    ...runtime,
    ...(spec.stallTimeoutMs !== undefined ? { stallTimeoutMs: spec.stallTimeoutMs } : {}),
  });
}
