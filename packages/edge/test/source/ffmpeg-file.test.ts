import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegSource } from '../../src/source/ffmpeg-source.ts';
import type { CapturedFrame, Scale } from '../../src/source/frame-source.ts';
import { openFrameSource } from '../../src/source/open-source.ts';
import { scaledSize } from '../../src/source/scale.ts';
import {
  captureLogger,
  childrenMatching,
  drain,
  haveVideos,
  meanOf,
  testFfmpeg,
  videoDir,
  waitFor,
} from './helpers.ts';

/** From the clips' README: size and frame count at their native rate. */
const CLIPS = [
  { file: 'car-detection.mp4', width: 768, height: 432, frames: 377, fps: 12.5 },
  { file: 'bottle-detection.mp4', width: 640, height: 360, frames: 1189, fps: 29.8 },
  { file: 'vtest.avi', width: 768, height: 576, frames: 795, fps: 10 },
] as const;
const SCALES: Scale[] = [{ shortSide: 256 }, { longSide: 416 }];

// Deadlines are generous: decoding speed depends on the machine, never on what is tested.
describe.skipIf(!haveVideos)('ffmpeg source on video files', { timeout: 180_000 }, () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'sg-video-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  for (const clip of CLIPS) {
    for (const scale of SCALES) {
      it(`decodes ${clip.file} at 5 fps to ${JSON.stringify(scale)}, every frame whole and numbered`, async () => {
        const { logger } = captureLogger();
        const source = await openFrameSource({
          source: path.join(videoDir, clip.file),
          scale,
          fps: 5,
          ffmpeg: await testFfmpeg(),
          logger,
        });
        expect(source.live).toBe(false);
        const size = scaledSize(clip.width, clip.height, scale);
        let count = 0;
        let brightest = 0;
        for await (const frame of source.frames()) {
          expect(frame.seq).toBe(count);
          expect(frame.ptsMs).toBe(count * 200);
          expect(frame.camera).toBe(path.parse(clip.file).name);
          if (frame.image.kind !== 'raw') throw new Error('expected raw pixels');
          const { raw } = frame.image;
          expect([raw.width, raw.height]).toEqual([size.width, size.height]);
          expect(raw.pixels.length).toBe(size.width * size.height * 3);
          if (count % 40 === 0) brightest = Math.max(brightest, meanOf(raw.pixels));
          count += 1;
        }
        const expected = (clip.frames / clip.fps) * 5;
        expect(Math.abs(count - expected)).toBeLessThanOrEqual(1);
        expect(brightest).toBeGreaterThan(20);
        expect(source.lastError).toBeNull();
        expect(source.stats()).toEqual({ decoded: count, dropped: 0, restarts: 0, gaps: [], closedGapMs: 0 });
      });
    }
  }

  it('gives the frames of a truncated clip, then a clear error, and ends', async () => {
    for (const clip of CLIPS) {
      const bytes = await readFile(path.join(videoDir, clip.file));
      const cut = path.join(tmp, `cut-${clip.file}`);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
      const { logger, records } = captureLogger();
      const source = await openFrameSource({
        source: cut,
        scale: { shortSide: 256 },
        ffmpeg: await testFfmpeg(),
        logger,
      });
      let count = 0;
      for await (const _ of source.frames()) count += 1;
      const full = (clip.frames / clip.fps) * 5;
      expect(count, clip.file).toBeLessThan(full * 0.8);
      const err = source.lastError as { code?: string; message: string; stderrTail?: string[] } | null;
      expect(err, clip.file).not.toBeNull();
      // With its index at the end (bottle), nothing decodes; with it at the start, the first part does.
      if (count === 0) {
        expect(err?.code).toBe('DECODE_FAILED');
        expect(err?.message).toMatch(/moov atom not found|Invalid data/);
      } else {
        expect(err?.code).toBe('FILE_TRUNCATED');
        expect(err?.message).toMatch(/decoded \d+\.\d s/);
      }
      expect(err?.stderrTail?.length).toBeGreaterThan(0);
      const logged = records.find((r) => r.level >= 50);
      expect(logged?.stderr, clip.file).toEqual(err?.stderrTail);
    }
  });

  it('asap: stops decoding while the consumer waits, and never drops', async () => {
    const file = path.join(videoDir, 'bottle-detection.mp4');
    const { logger } = captureLogger();
    const source = createFfmpegSource({
      camera: 'bottles',
      input: { kind: 'file', path: file, loop: false, pace: 'asap' },
      fps: 5,
      scale: { shortSide: 256 },
      ffmpeg: await testFfmpeg(),
      logger,
      readAhead: 2,
    });
    const started = performance.now();
    const seqs: number[] = [];
    let aheadDuringPause = 0;
    for await (const frame of source.frames()) {
      seqs.push(frame.seq);
      if (seqs.length === 3) {
        // Long enough to decode the whole clip many times over, had nothing held ffmpeg back.
        const pauseMs = Math.max(1000, 10 * (performance.now() - started));
        const until = performance.now() + pauseMs;
        while (performance.now() < until) {
          aheadDuringPause = Math.max(aheadDuringPause, source.stats().decoded - seqs.length);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    }
    // Two frames read ahead, plus at most one more from the chunk that was being cut when reading paused.
    expect(aheadDuringPause).toBeLessThanOrEqual(3);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(Math.abs(seqs.length - (1189 / 29.8) * 5)).toBeLessThanOrEqual(1);
    expect(source.stats().dropped).toBe(0);
  });

  it('realtime: a slow consumer gets the newest frame; every older one is counted and reported as dropped', async () => {
    const file = path.join(videoDir, 'car-detection.mp4');
    const { logger } = captureLogger();
    const dropped: CapturedFrame[] = [];
    const source = await openFrameSource({
      source: file,
      camera: 'lot',
      scale: { shortSide: 256 },
      fps: 5,
      pace: 'realtime',
      loop: true,
      ffmpeg: await testFfmpeg(),
      logger,
      onDrop: (f) => dropped.push(f),
    });
    expect(source.live).toBe(true);
    const delivered: number[] = [];
    const iterator = source.frames()[Symbol.asyncIterator]();
    const first = await iterator.next();
    delivered.push((first.value as CapturedFrame).seq);
    // The consumer "works" until the camera has moved on by several frames.
    await waitFor(() => source.stats().dropped >= 3, { what: '3 drops' });
    const dropsBefore = dropped.map((f) => f.seq);
    const next = (await iterator.next()).value as CapturedFrame;
    delivered.push(next.seq);
    expect(next.seq).toBeGreaterThan(Math.max(...dropsBefore));
    for (let i = 0; i < 3; i++) delivered.push(((await iterator.next()).value as CapturedFrame).seq);
    await source.close();
    expect((await iterator.next()).done).toBe(true);

    const stats = source.stats();
    expect(stats.dropped).toBe(dropped.length);
    const seen = [...delivered, ...dropped.map((f) => f.seq)].sort((a, b) => a - b);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(seen.map((_, i) => i));
    expect(stats.decoded).toBeGreaterThanOrEqual(seen.length);
    expect(childrenMatching(file)).toEqual([]);
  });

  it('restarts a looping realtime file whose ffmpeg is killed from outside, and records the gap', async () => {
    const file = path.join(videoDir, 'bottle-detection.mp4');
    const { logger, records } = captureLogger();
    const source = await openFrameSource({
      source: file,
      scale: { shortSide: 256 },
      pace: 'realtime',
      loop: true,
      ffmpeg: await testFfmpeg(),
      logger,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    const { frames, done } = drain(source);
    try {
      await waitFor(() => frames.length >= 2, { what: '2 frames' });
      const [pid] = childrenMatching(file);
      expect(pid).toBeDefined();
      process.kill(pid as number, 'SIGKILL');
      const before = frames.length;
      await waitFor(() => source.stats().gaps[0]?.to != null && frames.length >= before + 2, {
        what: 'frames after the restart',
      });
      const newPid = childrenMatching(file)[0];
      expect(newPid).not.toBe(pid);
    } finally {
      await source.close();
      await done;
    }
    const { gaps, restarts } = source.stats();
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.reason).toMatch(/killed by SIGKILL/);
    expect(restarts).toBe(1);
    expect(records.find((r) => r.msg === 'camera child died')?.signal).toBe('SIGKILL');
    // Numbering and stream position go on across the restart: no name is used twice.
    expect(frames.every((f, i) => i === 0 || f.seq > (frames[i - 1]?.seq ?? -1))).toBe(true);
    expect(frames.every((f, i) => i === 0 || (f.ptsMs ?? 0) > (frames[i - 1]?.ptsMs ?? 0))).toBe(true);
    expect(new Set(frames.map((f) => f.name)).size).toBe(frames.length);
    expect(childrenMatching(file)).toEqual([]);
  });

  it('ends the iteration and the child when the signal aborts', async () => {
    const file = path.join(videoDir, 'vtest.avi');
    const { logger } = captureLogger();
    const source = await openFrameSource({
      source: file,
      scale: { longSide: 416 },
      loop: true,
      ffmpeg: await testFfmpeg(),
      logger,
    });
    const controller = new AbortController();
    let count = 0;
    for await (const _ of source.frames({ signal: controller.signal })) {
      count += 1;
      if (count === 4) controller.abort();
    }
    expect(count).toBe(4);
    await waitFor(() => childrenMatching(file).length === 0, { what: 'ffmpeg to exit', deadlineMs: 10_000 });
    await source.close();
    expect(childrenMatching(file)).toEqual([]);
  });
});
