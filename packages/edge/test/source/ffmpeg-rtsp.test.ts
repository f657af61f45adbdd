import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRtspCamera, rtspServerPath } from '../../../../test/support/rtsp-camera.ts';
import { createFfmpegSource } from '../../src/source/ffmpeg-source.ts';
import type { Gap } from '../../src/source/frame-source.ts';
import {
  captureLogger,
  childrenMatching,
  drain,
  haveVideos,
  testFfmpeg,
  videoDir,
  waitFor,
} from './helpers.ts';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

if (!rtspServerPath && process.env.CI) throw new Error('the RTSP tests need rtsp-server-perl (apt)');

describe('ffmpeg source on RTSP', { timeout: 180_000 }, () => {
  it('restarts with growing backoff while nothing listens, keeps one open gap, and close() leaves no child', async () => {
    const url = `rtsp://127.0.0.1:${await freePort()}/nobody`;
    const { logger, records } = captureLogger();
    const gaps: Gap[] = [];
    const source = createFfmpegSource({
      camera: 'void',
      input: { kind: 'rtsp', url, transport: 'tcp', timeoutMs: 2000 },
      fps: 5,
      scale: { shortSide: 256 },
      ffmpeg: await testFfmpeg(),
      logger,
      backoff: { initialMs: 50, maxMs: 400 },
      random: () => 0,
      onGap: (g) => gaps.push(g),
    });
    const { frames, done } = drain(source);
    await waitFor(() => source.stats().restarts >= 5, { what: '5 restarts' });
    const delays = records.filter((r) => r.msg === 'camera restart scheduled').map((r) => r.delayMs);
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 400, 400]);
    const died = records.find((r) => r.msg === 'camera child died');
    expect(died?.stderr).toEqual(expect.arrayContaining([expect.stringMatching(/Connection refused/)]));
    const stats = source.stats();
    expect(stats.gaps).toHaveLength(1);
    expect(stats.gaps[0]).toMatchObject({ to: null, reason: expect.stringMatching(/Connection refused/) });
    expect(gaps).toEqual([stats.gaps[0]]);
    expect(source.lastError).toMatchObject({ code: 'CAMERA_FAILED' });
    await source.close();
    await done;
    expect(frames).toEqual([]);
    expect(childrenMatching(url)).toEqual([]);
    const restartsAtClose = source.stats().restarts;
    await new Promise((r) => setTimeout(r, 1000));
    expect(source.stats().restarts).toBe(restartsAtClose);
    expect(childrenMatching(url)).toEqual([]);
    await source.close();
  });

  it('gives up on a server that accepts and never answers, after the socket timeout, and retries', async () => {
    const connections: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      socket.on('error', () => {});
      connections.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `rtsp://127.0.0.1:${(silent.address() as net.AddressInfo).port}/silent`;
    const { logger } = captureLogger();
    const source = createFfmpegSource({
      camera: 'silent',
      input: { kind: 'rtsp', url, transport: 'tcp', timeoutMs: 1000 },
      fps: 5,
      scale: { shortSide: 256 },
      ffmpeg: await testFfmpeg(),
      logger,
      backoff: { initialMs: 100, maxMs: 200 },
      // ffmpeg's own timeout must end the attempt, not the source's watchdog.
      stallTimeoutMs: 600_000,
    });
    const { done } = drain(source);
    try {
      await waitFor(() => connections.length >= 3, { what: '3 connection attempts' });
      expect(source.stats().restarts).toBeGreaterThanOrEqual(2);
      expect(source.stats().gaps).toHaveLength(1);
    } finally {
      await source.close();
      await done;
      for (const c of connections) c.destroy();
      silent.close();
    }
    expect(childrenMatching(url)).toEqual([]);
  });

  it.skipIf(!rtspServerPath || !haveVideos)(
    'reads a real RTSP camera, survives its server being killed and restarted, and records the gap',
    async () => {
      const ffmpeg = await testFfmpeg();
      const camera = await createRtspCamera({
        clip: path.join(videoDir, 'car-detection.mp4'),
        ffmpeg: ffmpeg.path,
      });
      const { logger } = captureLogger();
      const source = createFfmpegSource({
        camera: 'lot',
        input: { kind: 'rtsp', url: camera.url, transport: 'udp', timeoutMs: 5000 },
        fps: 5,
        scale: { shortSide: 256 },
        ffmpeg,
        logger,
        backoff: { initialMs: 200, maxMs: 2000 },
      });
      const { frames, done } = drain(source);
      try {
        await camera.start();
        await waitFor(() => frames.length >= 5, { what: `5 frames (${camera.logs().join(' | ')})` });
        const first = frames[0]!;
        expect(first.image.kind === 'raw' && [first.image.raw.width, first.image.raw.height]).toEqual([
          456, 256,
        ]);
        expect(first.ptsMs).toBeNull();

        // The source may have started before the server did: that first outage is a gap of its own.
        const gapsBefore = source.stats().gaps.length;
        expect(source.stats().gaps.every((g) => g.to !== null)).toBe(true);
        await camera.stop();
        const stoppedAt = Date.now();
        const gap = await waitFor(() => source.stats().gaps[gapsBefore], {
          what: 'a gap after the server died',
        });
        expect(gap.to).toBeNull();
        // The gap starts at the last frame that came through (frames already in the pipe may follow stop()).
        expect(gap.from).toBe(frames.at(-1)?.capturedAt);
        const before = frames.length;

        await camera.start();
        const closed = await waitFor(
          () => {
            const g = source.stats().gaps[gapsBefore];
            return g?.to !== null && frames.length >= before + 5 ? g : undefined;
          },
          { what: `frames after the restart (${camera.logs().join(' | ')})`, deadlineMs: 120_000 },
        );
        expect(closed?.to).toBeGreaterThan(stoppedAt);
        const after = frames.slice(before);
        expect(after.every((f) => f.capturedAt >= (closed?.to ?? 0))).toBe(true);
        const seqs = frames.map((f) => f.seq);
        expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? -1))).toBe(true);
        expect(source.stats().restarts).toBeGreaterThanOrEqual(1);
      } finally {
        await source.close();
        await done;
        await camera.close();
      }
      expect(childrenMatching(camera.url)).toEqual([]);
      // Closed: every frame read was either taken or counted as dropped.
      expect(source.stats().decoded).toBe(frames.length + source.stats().dropped);
    },
    240_000,
  );
});
