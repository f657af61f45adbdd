// The clips a run covers, their size and duration, and the JPEG baseline: every analysed frame,
// decoded by the same source the agent uses, encoded as a q85 JPEG at the analysed size.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type FfmpegInfo, openFrameSource, type Scale } from '@squeezegate/edge';
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { ClipFacts } from './summary.ts';

const VIDEO_EXT = /\.(mp4|mkv|avi|mov)$/i;

/** A source the bench cannot read: no videos there, or ffmpeg cannot tell a clip's duration. */
export class ClipError extends Error {
  override name = 'ClipError';
  readonly code = 'CLIP_UNREADABLE';
}

/** The video files a `--source` names: the file itself, or every video in the folder, by name. */
export async function clipFiles(source: string): Promise<string[]> {
  const full = path.resolve(source);
  const info = await stat(full).catch((cause: unknown) => {
    throw new ClipError(`cannot read ${source}: ${(cause as Error).message}`, { cause });
  });
  if (info.isFile()) {
    if (!VIDEO_EXT.test(full)) throw new ClipError(`${source} is not a video (.mp4, .mkv, .avi, .mov)`);
    return [full];
  }
  const files = (await readdir(full))
    .filter((f) => VIDEO_EXT.test(f))
    .sort()
    .map((f) => path.join(full, f));
  if (files.length === 0) throw new ClipError(`${source} holds no .mp4, .mkv, .avi or .mov file`);
  return files;
}

/** The container's duration from ffmpeg's banner (`Duration: 00:00:30.16`), seconds. */
export function parseDuration(banner: string): number | null {
  const m = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(banner);
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** The last `frame=` count of ffmpeg's progress lines. */
export function parseFrameCount(log: string): number | null {
  const all = [...log.matchAll(/frame=\s*(\d+)/g)];
  const last = all.at(-1)?.[1];
  return last === undefined ? null : Number(last);
}

/**
 * Size, duration and frame count of one clip: ffmpeg copies its video stream to nowhere (no
 * decoding, so it takes a moment), printing the banner and the frames it passed.
 */
export async function clipFacts(file: string, ffmpeg: FfmpegInfo): Promise<ClipFacts> {
  const args = ['-hide_banner', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'];
  const log = await new Promise<string>((resolve) => {
    execFile(ffmpeg.path, args, { timeout: 60_000, maxBuffer: 16 << 20 }, (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });
  const durationS = parseDuration(log);
  if (durationS === null || durationS <= 0)
    throw new ClipError(`ffmpeg gives no duration for ${file}: ${log.split('\n').slice(-3).join(' ')}`);
  return {
    name: path.basename(file, path.extname(file)),
    file,
    bytes: (await stat(file)).size,
    durationS,
    frames: parseFrameCount(log),
  };
}

/**
 * Bytes of every analysed frame as a q85 JPEG at the analysed size, and how many frames: what a
 * camera sending each analysed frame as a still would cost.
 */
export async function jpegBaseline(args: {
  file: string;
  fps: number;
  scale: Scale;
  limit?: number | undefined;
  ffmpeg: FfmpegInfo;
  logger: Logger;
  quality?: number;
}): Promise<{ frames: number; bytes: number }> {
  const { quality = 85, limit } = args;
  const source = await openFrameSource({
    source: args.file,
    fps: args.fps,
    scale: args.scale,
    pace: 'asap',
    ffmpeg: args.ffmpeg,
    logger: args.logger,
  });
  let frames = 0;
  let bytes = 0;
  try {
    for await (const frame of source.frames()) {
      if (frame.image.kind !== 'raw') throw new ClipError(`${args.file}: the source gave a file, not pixels`);
      const { pixels, width, height } = frame.image.raw;
      const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } })
        .jpeg({ quality })
        .toBuffer();
      bytes += jpeg.length;
      if (++frames === limit) break;
    }
  } finally {
    await source.close();
  }
  return { frames, bytes };
}
