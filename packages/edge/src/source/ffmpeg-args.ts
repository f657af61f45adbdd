import type { Scale } from './frame-source.ts';
import { scaleFilter } from './scale.ts';

/** What one ffmpeg child reads. */
export type FfmpegInput =
  | {
      kind: 'file';
      /** Absolute path (a relative one starting with `-` would read as an option). */
      path: string;
      /** `-stream_loop -1`: replay forever, as a camera would. */
      loop: boolean;
      /** `asap`: as fast as the consumer takes frames (no drops); `realtime`: `-re`, paced like a camera. */
      pace: 'asap' | 'realtime';
    }
  | { kind: 'rtsp'; url: string; transport: 'tcp' | 'udp'; timeoutMs: number }
  | { kind: 'mjpeg'; url: string; timeoutMs: number }
  | { kind: 'v4l2'; device: string; inputFormat?: string | undefined; videoSize?: string | undefined };

export interface FfmpegArgsOptions {
  input: FfmpegInput;
  fps: number;
  scale: Scale;
  /** From `FfmpegInfo`: the RTSP socket timeout option this ffmpeg understands. */
  rtspTimeoutOption: '-stimeout' | '-timeout' | null;
}

function inputArgs(input: FfmpegInput, rtspTimeoutOption: FfmpegArgsOptions['rtspTimeoutOption']): string[] {
  switch (input.kind) {
    case 'file':
      return [
        ...(input.pace === 'realtime' ? ['-re'] : []),
        ...(input.loop ? ['-stream_loop', '-1'] : []),
        '-i',
        input.path,
      ];
    case 'rtsp': {
      const timeout = rtspTimeoutOption === null ? [] : [rtspTimeoutOption, String(input.timeoutMs * 1000)];
      return ['-rtsp_transport', input.transport, ...timeout, '-i', input.url];
    }
    case 'mjpeg':
      // rw_timeout (µs) is the protocol-level read timeout, the same name in ffmpeg 4.1 and 5.1.
      return ['-f', 'mpjpeg', '-rw_timeout', String(input.timeoutMs * 1000), '-i', input.url];
    case 'v4l2':
      return [
        '-f',
        'v4l2',
        ...(input.inputFormat ? ['-input_format', input.inputFormat] : []),
        ...(input.videoSize ? ['-video_size', input.videoSize] : []),
        '-i',
        input.device,
      ];
  }
}

/**
 * The argv (never a shell string) of a child that decodes the first video stream straight to raw
 * RGB at the analysis rate and size. `-v info` keeps the `Output #0` stream line, which gives the
 * output size (`parseOutputSize`); `-nostats` keeps progress lines out of stderr.
 */
export function buildFfmpegArgs({ input, fps, scale, rtspTimeoutOption }: FfmpegArgsOptions): string[] {
  if (!(fps > 0 && fps <= 120)) throw new RangeError(`fps must be in (0, 120], got ${fps}`);
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-v',
    'info',
    ...inputArgs(input, rtspTimeoutOption),
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `fps=${fps},${scaleFilter(scale)}`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

/**
 * Reads ffmpeg's stderr header lines: the input's `Duration:` and the size of the rawvideo output
 * stream (`Output #0, rawvideo ...` then `Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752),
 * rgb24, 456x256, ...`; ffmpeg 5.1 writes `rgb24(pc, gbr/unknown/unknown, progressive), 456x256
 * [SAR 1:1 DAR 57:32]`). The codec tag `0x18424752` is not a size: a size follows ", ".
 */
export class FfmpegHeaderReader {
  durationMs: number | null = null;
  size: { width: number; height: number } | null = null;
  private inOutput = false;

  /** Feeds one stderr line; returns true when this line gave the output size. */
  line(text: string): boolean {
    if (this.durationMs === null && !this.inOutput) {
      const d = /^\s*Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(text);
      if (d) this.durationMs = Math.round(((Number(d[1]) * 60 + Number(d[2])) * 60 + Number(d[3])) * 1000);
    }
    if (/^Output #0\b/.test(text)) this.inOutput = true;
    if (this.size !== null || !this.inOutput || !/Stream #\d+:\d+.*Video: rawvideo\b/.test(text))
      return false;
    const m = /,\s(\d{1,5})x(\d{1,5})(?=[\s,[]|$)/.exec(text);
    if (!m) return false;
    this.size = { width: Number(m[1]), height: Number(m[2]) };
    return true;
  }
}

/** The line of a stderr tail that best says why ffmpeg failed. */
export function failureLine(tail: readonly string[]): string {
  const telling = [...tail]
    .reverse()
    .find((l) =>
      /error|invalid|not found|failed|refused|timed out|no such|denied|unauthori[sz]ed|40\d|50\d/i.test(l),
    );
  return telling ?? tail.at(-1) ?? 'no output';
}
