/** Why a camera source failed. */
export const SourceErrorCode = {
  /** A folder or file that cannot be read. */
  SOURCE_UNREADABLE: 'SOURCE_UNREADABLE',
  /** No working ffmpeg at any of the places searched. */
  FFMPEG_MISSING: 'FFMPEG_MISSING',
  /** A path or URL no source handles. */
  UNSUPPORTED_SOURCE: 'UNSUPPORTED_SOURCE',
  /** An HTTP camera that did not answer when its kind (MJPEG or snapshot) was probed. */
  SOURCE_UNREACHABLE: 'SOURCE_UNREACHABLE',
  /** ffmpeg exited with an error while decoding a file. */
  DECODE_FAILED: 'DECODE_FAILED',
  /** A file that ended cleanly well before the duration its container announced. */
  FILE_TRUNCATED: 'FILE_TRUNCATED',
  /** ffmpeg's output could not be understood (no output size, a partial frame). */
  BAD_OUTPUT: 'BAD_OUTPUT',
  /** A live camera failed (exit, stall, timeout); the source restarts it. */
  CAMERA_FAILED: 'CAMERA_FAILED',
} as const;
export type SourceErrorCode = (typeof SourceErrorCode)[keyof typeof SourceErrorCode];

/**
 * A named source error. Same name, `SOURCE_UNREADABLE` default code and `(message, { cause })`
 * call shape as the folder source's error, so directory-source.ts can import this one instead.
 * `stderrTail` holds ffmpeg's last stderr lines when ffmpeg was involved.
 */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  readonly code: SourceErrorCode;
  readonly stderrTail: readonly string[];

  constructor(
    message: string,
    options: { code?: SourceErrorCode; cause?: unknown; stderrTail?: readonly string[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? SourceErrorCode.SOURCE_UNREADABLE;
    this.stderrTail = options.stderrTail ?? [];
  }
}

/** Hides the password of `scheme://user:password@host` URLs before they reach a log. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}
