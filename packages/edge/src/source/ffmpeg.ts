import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { SourceError, SourceErrorCode } from './source-error.ts';

/** Where the ffmpeg in use was found, in the order they are tried. */
export type FfmpegOrigin = 'explicit' | 'env' | 'package' | 'path';

/** A working ffmpeg: probed once, then shared by every camera. */
export interface FfmpegInfo {
  path: string;
  origin: FfmpegOrigin;
  /** The version token of `ffmpeg -version` (e.g. `5.1.6-0+deb12u1`, or a git snapshot id for static builds). */
  version: string;
  /** The first line of `ffmpeg -version`, for the log. */
  versionLine: string;
  /**
   * The RTSP demuxer's socket timeout option, in microseconds: `-stimeout` up to ffmpeg 4.x,
   * `-timeout` from 5.0 (where 4.x's `-timeout` meant "listen", which would make a client wait
   * for an incoming connection). Null when neither exists.
   */
  rtspTimeoutOption: '-stimeout' | '-timeout' | null;
}

export interface LocateFfmpegOptions {
  /** `--ffmpeg <path>`: used alone when given. */
  explicit?: string | undefined;
  /** The caller's `SQUEEZEGATE_FFMPEG`: used alone when given (the library never reads the environment). */
  env?: string | undefined;
  /** Per probe; default 10 s. */
  timeoutMs?: number;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(err);
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** `-stimeout` when the RTSP demuxer lists it, else `-timeout` when that one is the microsecond socket timeout. */
export function rtspTimeoutOptionFrom(help: string): FfmpegInfo['rtspTimeoutOption'] {
  if (/^\s*-stimeout\s/m.test(help)) return '-stimeout';
  const timeout = help.split('\n').find((line) => /^\s*-timeout\s/.test(line));
  if (timeout !== undefined && /microsec/i.test(timeout) && !/listen|incoming/i.test(timeout))
    return '-timeout';
  return null;
}

/** Runs `ffmpeg -version` and `-h demuxer=rtsp`; throws SourceError FFMPEG_MISSING when it does not run. */
export async function probeFfmpeg(
  file: string,
  origin: FfmpegOrigin,
  { timeoutMs = 10_000 }: { timeoutMs?: number } = {},
): Promise<FfmpegInfo> {
  let out: string;
  try {
    out = await run(file, ['-hide_banner', '-version'], timeoutMs);
  } catch (cause) {
    throw new SourceError(`ffmpeg (${origin}) at ${file} does not run: ${(cause as Error).message}`, {
      code: SourceErrorCode.FFMPEG_MISSING,
      cause,
    });
  }
  const versionLine = out.split('\n')[0]?.trim() ?? '';
  const version = /^ffmpeg version (\S+)/.exec(versionLine)?.[1];
  if (version === undefined) {
    throw new SourceError(
      `${file} (${origin}) is not ffmpeg: -version printed "${versionLine.slice(0, 120)}"`,
      {
        code: SourceErrorCode.FFMPEG_MISSING,
      },
    );
  }
  const help = await run(file, ['-hide_banner', '-h', 'demuxer=rtsp'], timeoutMs).catch(() => '');
  return { path: file, origin, version, versionLine, rtspTimeoutOption: rtspTimeoutOptionFrom(help) };
}

/** The binary shipped by `@ffmpeg-installer/ffmpeg`, or null when the package or its binary is absent. */
export function packagedFfmpegPath(): string | null {
  try {
    const installer: unknown = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg');
    const path = (installer as { path?: unknown }).path;
    return typeof path === 'string' ? path : null;
  } catch {
    // The package throws a string when no binary exists for this platform.
    return null;
  }
}

/**
 * Finds a working ffmpeg: `explicit` (`--ffmpeg`) > `env` (`SQUEEZEGATE_FFMPEG`) > the
 * `@ffmpeg-installer/ffmpeg` package > `ffmpeg` on PATH. A path the user named is never
 * silently replaced by another: when it fails, that is the error.
 */
export async function locateFfmpeg(options: LocateFfmpegOptions = {}): Promise<FfmpegInfo> {
  const { explicit, env, timeoutMs = 10_000 } = options;
  if (explicit) return probeFfmpeg(explicit, 'explicit', { timeoutMs });
  if (env) return probeFfmpeg(env, 'env', { timeoutMs });
  const failures: string[] = [];
  const packaged = packagedFfmpegPath();
  if (packaged !== null) {
    try {
      return await probeFfmpeg(packaged, 'package', { timeoutMs });
    } catch (err) {
      failures.push((err as Error).message);
    }
  } else failures.push('@ffmpeg-installer/ffmpeg has no binary here');
  try {
    return await probeFfmpeg('ffmpeg', 'path', { timeoutMs });
  } catch (err) {
    failures.push((err as Error).message);
  }
  throw new SourceError(
    `no working ffmpeg: pass --ffmpeg <path> or set SQUEEZEGATE_FFMPEG (${failures.join('; ')})`,
    { code: SourceErrorCode.FFMPEG_MISSING },
  );
}
