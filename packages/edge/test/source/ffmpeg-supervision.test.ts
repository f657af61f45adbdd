import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FfmpegInfo } from '../../src/source/ffmpeg.ts';
import { createFfmpegSource } from '../../src/source/ffmpeg-source.ts';
import { captureLogger, childrenMatching, drain, waitFor } from './helpers.ts';

/**
 * Stand-ins for ffmpeg: they write ffmpeg's output header to stderr and 4×2 RGB frames to stdout,
 * so supervision is tested against a child that misbehaves on purpose.
 */
const HEADER = `echo "Output #0, rawvideo, to 'pipe:':" >&2
echo "    Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 4x2, q=2-31, 5 fps" >&2`;

describe('ffmpeg supervision', { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sg-fake-ffmpeg-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fake(name: string, body: string): Promise<FfmpegInfo> {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${HEADER}\n${body}\n`);
    await chmod(file, 0o755);
    return {
      path: file,
      origin: 'explicit',
      version: 'fake',
      versionLine: 'ffmpeg version fake',
      rtspTimeoutOption: null,
    };
  }

  it('SIGKILLs a child that ignores SIGTERM after the grace period, and close() waits for it', async () => {
    const ffmpeg = await fake(
      'stubborn.sh',
      `trap '' TERM\nwhile true; do head -c 24 /dev/zero; sleep 0.05; done`,
    );
    const { logger, records } = captureLogger();
    const source = createFfmpegSource({
      camera: 'stubborn',
      input: { kind: 'rtsp', url: 'rtsp://unused/x', transport: 'tcp', timeoutMs: 1000 },
      fps: 5,
      scale: { shortSide: 256 },
      ffmpeg,
      logger,
      killGraceMs: 300,
    });
    const { frames, done } = drain(source, { keepPixels: true });
    await waitFor(() => frames.length >= 2, { what: '2 frames from the fake' });
    const frame = frames[0]!;
    expect(frame.image).toEqual({ kind: 'raw', raw: { width: 4, height: 2, pixels: Buffer.alloc(24) } });
    expect(childrenMatching(ffmpeg.path)).toHaveLength(1);
    await source.close();
    await done;
    expect(records.some((r) => r.msg === 'ffmpeg ignored SIGTERM, killing')).toBe(true);
    expect(childrenMatching(ffmpeg.path)).toEqual([]);
    await source.close();
  });

  it('logs the stderr tail of a child that dies, and numbers frames on across restarts', async () => {
    const ffmpeg = await fake(
      'flaky.sh',
      `for i in 1 2 3; do head -c 24 /dev/zero; done\necho "line A" >&2\necho "[rtsp @ 0x1] Connection reset by peer" >&2\nexit 1`,
    );
    const { logger, records } = captureLogger();
    const dropped: number[] = [];
    const source = createFfmpegSource({
      camera: 'flaky',
      input: { kind: 'rtsp', url: 'rtsp://unused/x', transport: 'tcp', timeoutMs: 1000 },
      fps: 5,
      scale: { shortSide: 256 },
      ffmpeg,
      logger,
      backoff: { initialMs: 20, maxMs: 40 },
      onDrop: (f) => dropped.push(f.seq),
    });
    const { frames, done } = drain(source);
    await waitFor(() => source.stats().restarts >= 2 && frames.length >= 7, {
      what: 'frames from 3 children',
    });
    await source.close();
    await done;
    const died = records.find((r) => r.msg === 'camera child died');
    expect(died).toMatchObject({ component: 'camera', camera: 'flaky', code: 1, frames: 3 });
    expect(((died?.stderr ?? []) as string[]).slice(-2)).toEqual([
      'line A',
      '[rtsp @ 0x1] Connection reset by peer',
    ]);
    expect(died?.reason).toBe('ffmpeg exited with code 1: [rtsp @ 0x1] Connection reset by peer');
    // Live: a frame the consumer had not taken yet may be overwritten, but none is lost unaccounted.
    const seqs = frames.map((f) => f.seq);
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? -1))).toBe(true);
    const seen = [...seqs, ...dropped].sort((a, b) => a - b);
    expect(seen).toEqual(seen.map((_, i) => i));
    expect(source.stats().dropped).toBe(dropped.length);
    // Each death opens a gap that the next child's first frame closes.
    const { gaps } = source.stats();
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(gaps.slice(0, 2).every((g) => g.to !== null && g.to >= g.from)).toBe(true);
  });
});
