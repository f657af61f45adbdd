import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gap } from '../../src/source/frame-source.ts';
import { openFrameSource } from '../../src/source/open-source.ts';
import { captureLogger, childrenMatching, drain, meanOf, testFfmpeg, waitFor } from './helpers.ts';

/** A 320×240 JPEG whose grey level says which frame it is. */
function jpeg(level: number): Promise<Buffer> {
  return sharp({
    create: { width: 320, height: 240, channels: 3, background: { r: level, g: level, b: level } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
}

interface FakeCamera {
  url: string;
  requests: Map<string, number>;
  fail: { snapshot: boolean };
  close(): Promise<void>;
}

/** `/mjpeg`: multipart/x-mixed-replace at ~10 fps; `/snap`: one JPEG per GET; `/page`: HTML. */
async function fakeCamera(): Promise<FakeCamera> {
  const frames = await Promise.all([40, 120, 200].map(jpeg));
  const requests = new Map<string, number>();
  const fail = { snapshot: false };
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    requests.set(url, (requests.get(url) ?? 0) + 1);
    if (url === '/mjpeg') {
      res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
      let i = 0;
      const timer = setInterval(() => {
        const body = frames[i++ % frames.length]!;
        res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${body.length}\r\n\r\n`);
        res.write(body);
        res.write('\r\n');
      }, 100);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    } else if (url === '/stall') {
      // A burst of frames, then silence on an open connection: a camera that hangs.
      res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
      for (let i = 0; i < 15; i++) {
        const body = frames[i % frames.length]!;
        res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${body.length}\r\n\r\n`);
        res.write(body);
        res.write('\r\n');
      }
    } else if (url === '/snap') {
      if (fail.snapshot) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'image/jpeg' }).end(frames[1]);
    } else res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail,
    close: async () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('HTTP cameras', { timeout: 120_000 }, () => {
  let camera: FakeCamera | null = null;
  afterEach(async () => {
    await camera?.close();
    camera = null;
  });

  it('reads an MJPEG stream through ffmpeg, told apart by its Content-Type', async () => {
    camera = await fakeCamera();
    const url = `${camera.url}/mjpeg`;
    const { logger } = captureLogger();
    const source = await openFrameSource({
      source: url,
      camera: 'door',
      fps: 5,
      scale: { shortSide: 128 },
      ffmpeg: await testFfmpeg(),
      logger,
    });
    expect(source.live).toBe(true);
    const { frames, done } = drain(source, { keepPixels: true });
    await waitFor(() => frames.length >= 4, { what: '4 MJPEG frames' });
    await source.close();
    await done;
    for (const f of frames) {
      if (f.image.kind !== 'raw') throw new Error('expected raw pixels');
      expect([f.image.raw.width, f.image.raw.height]).toEqual([170, 128]);
      expect(f.name).toBe(`door-${f.seq}`);
      expect(f.ptsMs).toBeNull();
    }
    // The frames are the stream's greys (40, 120, 200), decoded, not noise.
    const levels = frames.map((f) => (f.image.kind === 'raw' ? Math.round(meanOf(f.image.raw.pixels)) : -1));
    expect(levels.every((l) => [40, 120, 200].some((g) => Math.abs(l - g) <= 4))).toBe(true);
    // One request to learn what the URL is, then ffmpeg's own.
    expect(camera.requests.get('/mjpeg')).toBe(2);
    expect(childrenMatching(url)).toEqual([]);
  });

  it('kills and restarts a stream that stalls, through its own watchdog', async () => {
    camera = await fakeCamera();
    const url = `${camera.url}/stall`;
    const { logger, records } = captureLogger();
    const source = await openFrameSource({
      source: url,
      camera: 'hung',
      fps: 5,
      scale: { shortSide: 128 },
      ffmpeg: await testFfmpeg(),
      logger,
      // ffmpeg's own read timeout would notice much later than the watchdog.
      timeoutMs: 120_000,
      stallTimeoutMs: 1500,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    const { frames, done } = drain(source);
    try {
      await waitFor(() => (camera?.requests.get('/stall') ?? 0) >= 3 && source.stats().restarts >= 1, {
        what: 'two reconnections after stalls',
      });
    } finally {
      await source.close();
      await done;
    }
    expect(frames.length).toBeGreaterThanOrEqual(1);
    const gaps = source.stats().gaps;
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(gaps[0]?.reason).toMatch(/^no frame for \d+ s$/);
    expect(records.some((r) => r.msg === 'camera child died' && Array.isArray(r.stderr))).toBe(true);
    expect(childrenMatching(url)).toEqual([]);
  });

  it('polls a snapshot URL at the analysis rate, and reopens a gap while it fails', async () => {
    camera = await fakeCamera();
    const { logger } = captureLogger();
    const gaps: Gap[] = [];
    const source = await openFrameSource({
      source: `${camera.url}/snap`,
      camera: 'porch',
      fps: 10,
      scale: { shortSide: 128 },
      logger,
      backoff: { initialMs: 50, maxMs: 200 },
      onGap: (g) => gaps.push(g),
    });
    expect(source.live).toBe(true);
    const { frames, done } = drain(source, { keepPixels: true });
    await waitFor(() => frames.length >= 3, { what: '3 snapshots' });
    const f = frames[0]!;
    if (f.image.kind !== 'raw') throw new Error('expected raw pixels');
    expect([f.image.raw.width, f.image.raw.height]).toEqual([170, 128]);
    expect(Math.abs(meanOf(f.image.raw.pixels) - 120)).toBeLessThanOrEqual(4);

    camera.fail.snapshot = true;
    await waitFor(() => source.stats().gaps[0], { what: 'a gap while the camera fails' });
    const failedAt = camera.requests.get('/snap') ?? 0;
    await waitFor(() => (camera?.requests.get('/snap') ?? 0) >= failedAt + 2, { what: 'retries' });
    const before = frames.length;
    camera.fail.snapshot = false;
    await waitFor(() => frames.length >= before + 2, { what: 'snapshots after recovery' });
    await source.close();
    await done;

    const stats = source.stats();
    expect(stats.gaps).toHaveLength(1);
    expect(stats.gaps[0]).toMatchObject({ reason: 'snapshot failed: HTTP 503' });
    expect(stats.gaps[0]?.to).toBe(frames[before]?.capturedAt);
    expect(gaps.map((g) => g.to === null)).toEqual([true, false]);
    expect(stats.restarts).toBe(1);
    expect(stats.decoded).toBe(frames.length + stats.dropped);
    const requestsAtClose = camera.requests.get('/snap');
    await new Promise((r) => setTimeout(r, 300));
    expect(camera.requests.get('/snap')).toBe(requestsAtClose);
  });

  it('refuses a URL that is neither a stream nor an image, and one that does not answer', async () => {
    camera = await fakeCamera();
    const { logger } = captureLogger();
    const scale = { shortSide: 128 };
    await expect(openFrameSource({ source: `${camera.url}/page`, scale, logger })).rejects.toMatchObject({
      code: 'UNSUPPORTED_SOURCE',
      message: expect.stringMatching(/text\/html/),
    });
    const gone = camera.url;
    await camera.close();
    camera = null;
    await expect(openFrameSource({ source: `${gone}/snap`, scale, logger })).rejects.toMatchObject({
      code: 'SOURCE_UNREACHABLE',
    });
  });
});
