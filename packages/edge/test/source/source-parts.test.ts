import { describe, expect, it } from 'vitest';
import { rtspTimeoutOptionFrom } from '../../src/source/ffmpeg.ts';
import { buildFfmpegArgs, FfmpegHeaderReader, failureLine } from '../../src/source/ffmpeg-args.ts';
import { backoffDelay } from '../../src/source/internal/backoff.ts';
import { FrameChannel } from '../../src/source/internal/frame-channel.ts';
import { FrameSlicer } from '../../src/source/internal/frame-slicer.ts';
import { LineRing } from '../../src/source/internal/line-ring.ts';
import { cameraIdFrom, classifySource } from '../../src/source/open-source.ts';
import { scaledSize, scaleFilter } from '../../src/source/scale.ts';
import { redactUrl, SourceError } from '../../src/source/source-error.ts';

const base = { fps: 5, scale: { shortSide: 256 }, rtspTimeoutOption: '-stimeout' as const };

function inputPart(args: string[]): string[] {
  return args.slice(args.indexOf('info') + 1, args.indexOf('-map'));
}

describe('ffmpeg argv', () => {
  it('decodes the first video stream to raw RGB at the analysis rate and size, on stdout', () => {
    const args = buildFfmpegArgs({
      ...base,
      input: { kind: 'file', path: '/v/a.mp4', loop: false, pace: 'asap' },
    });
    expect(args.slice(0, 5)).toEqual(['-hide_banner', '-nostdin', '-nostats', '-v', 'info']);
    expect(args.slice(args.indexOf('-map'))).toEqual([
      '-map',
      '0:v:0',
      '-an',
      '-sn',
      '-dn',
      '-vf',
      `fps=5,scale=w='if(lte(iw,ih),256,-2)':h='if(lte(iw,ih),-2,256)'`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ]);
    expect(inputPart(args)).toEqual(['-i', '/v/a.mp4']);
  });

  it('loops and paces files, as a camera would', () => {
    const args = buildFfmpegArgs({
      ...base,
      input: { kind: 'file', path: '/v/a.mp4', loop: true, pace: 'realtime' },
    });
    expect(inputPart(args)).toEqual(['-re', '-stream_loop', '-1', '-i', '/v/a.mp4']);
  });

  it('gives RTSP its transport and the socket timeout under the name this ffmpeg knows, in µs', () => {
    const input = { kind: 'rtsp', url: 'rtsp://cam/x', transport: 'udp', timeoutMs: 2500 } as const;
    expect(inputPart(buildFfmpegArgs({ ...base, input }))).toEqual([
      '-rtsp_transport',
      'udp',
      '-stimeout',
      '2500000',
      '-i',
      'rtsp://cam/x',
    ]);
    expect(inputPart(buildFfmpegArgs({ ...base, input, rtspTimeoutOption: '-timeout' }))).toEqual([
      '-rtsp_transport',
      'udp',
      '-timeout',
      '2500000',
      '-i',
      'rtsp://cam/x',
    ]);
    expect(inputPart(buildFfmpegArgs({ ...base, input, rtspTimeoutOption: null }))).toEqual([
      '-rtsp_transport',
      'udp',
      '-i',
      'rtsp://cam/x',
    ]);
  });

  it('reads MJPEG over HTTP with the mpjpeg demuxer and a read timeout', () => {
    const input = { kind: 'mjpeg', url: 'http://cam/video', timeoutMs: 1000 } as const;
    expect(inputPart(buildFfmpegArgs({ ...base, input }))).toEqual([
      '-f',
      'mpjpeg',
      '-rw_timeout',
      '1000000',
      '-i',
      'http://cam/video',
    ]);
  });

  it('opens V4L2 devices with -f v4l2 and the optional format and size', () => {
    expect(inputPart(buildFfmpegArgs({ ...base, input: { kind: 'v4l2', device: '/dev/video0' } }))).toEqual([
      '-f',
      'v4l2',
      '-i',
      '/dev/video0',
    ]);
    const input = {
      kind: 'v4l2',
      device: '/dev/video2',
      inputFormat: 'mjpeg',
      videoSize: '1280x720',
    } as const;
    expect(inputPart(buildFfmpegArgs({ ...base, input }))).toEqual([
      '-f',
      'v4l2',
      '-input_format',
      'mjpeg',
      '-video_size',
      '1280x720',
      '-i',
      '/dev/video2',
    ]);
  });

  it('refuses odd sides and silly rates', () => {
    const input = { kind: 'v4l2', device: '/dev/video0' } as const;
    expect(() => buildFfmpegArgs({ ...base, input, scale: { shortSide: 255 } })).toThrow(SourceError);
    expect(() => buildFfmpegArgs({ ...base, input, fps: 0 })).toThrow(RangeError);
  });
});

describe('scale', () => {
  it('sets the chosen side and rounds the other to even, like ffmpeg -2', () => {
    expect(scaledSize(768, 432, { shortSide: 256 })).toEqual({ width: 456, height: 256 });
    expect(scaledSize(768, 432, { longSide: 416 })).toEqual({ width: 416, height: 234 });
    expect(scaledSize(768, 576, { shortSide: 256 })).toEqual({ width: 342, height: 256 });
    expect(scaledSize(432, 768, { shortSide: 256 })).toEqual({ width: 256, height: 456 });
    expect(scaledSize(432, 768, { longSide: 416 })).toEqual({ width: 234, height: 416 });
    expect(scaledSize(500, 500, { longSide: 416 })).toEqual({ width: 416, height: 416 });
    expect(scaleFilter({ longSide: 416 })).toBe(`scale=w='if(gte(iw,ih),416,-2)':h='if(gte(iw,ih),-2,416)'`);
  });
});

describe('ffmpeg stderr', () => {
  it('finds the input duration and the rawvideo output size of ffmpeg 4.1 and 5.1', () => {
    const v41 = new FfmpegHeaderReader();
    const lines41 = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'car-detection.mp4':",
      '  Duration: 00:00:30.16, start: 0.000000, bitrate: 745 kb/s',
      '    Stream #0:0(und): Video: h264 (Main) (avc1 / 0x31637661), yuv420p, 768x432, 742 kb/s, 12.50 fps',
      "Output #0, rawvideo, to 'pipe:':",
      '    Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 456x256, q=2-31, 14008 kb/s, 5 fps, 5 tbn',
    ];
    expect(lines41.map((l) => v41.line(l))).toEqual([false, false, false, false, true]);
    expect(v41.size).toEqual({ width: 456, height: 256 });
    expect(v41.durationMs).toBe(30160);

    const v51 = new FfmpegHeaderReader();
    v51.line('  Duration: 00:01:19.50, start: 0.000000, bitrate: 818 kb/s');
    v51.line("Output #0, rawvideo, to 'pipe:1':");
    v51.line(
      '  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 342x256 [SAR 1:1 DAR 171:128], q=2-31, 10506 kb/s, 5 fps, 5 tbn',
    );
    expect(v51.size).toEqual({ width: 342, height: 256 });
    expect(v51.durationMs).toBe(79500);
  });

  it('ignores the input stream size and live sources without a duration', () => {
    const r = new FfmpegHeaderReader();
    r.line('  Duration: N/A, start: 0.000000, bitrate: N/A');
    r.line('    Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 640x480, 25 fps');
    expect(r.size).toBeNull();
    expect(r.durationMs).toBeNull();
  });

  it('picks the line that says why ffmpeg failed', () => {
    expect(
      failureLine([
        "Input #0, rtsp, from 'rtsp://x':",
        'rtsp://127.0.0.1:9/x: Connection refused',
        'Conversion failed!',
      ]),
    ).toBe('Conversion failed!');
    expect(failureLine(['just this'])).toBe('just this');
    expect(failureLine([])).toBe('no output');
  });

  it('knows the RTSP timeout option of ffmpeg 4.1 and 5.1', () => {
    const help41 = [
      '  -listen_timeout    <int>        .D....... set maximum timeout (in seconds) to wait for incoming connections',
      '  -timeout           <int>        .D....... set maximum timeout (in seconds) to wait for incoming connections (-1 is infinite, imply flag listen) (deprecated, use listen_timeout)',
      '  -stimeout          <int>        .D....... set timeout (in microseconds) of socket TCP I/O operations',
    ].join('\n');
    const help51 = [
      '  -listen_timeout    <int>        .D....... set maximum timeout (in seconds) to wait for incoming connections (-1 is infinite, imply flag listen) (from INT_MIN to INT_MAX) (default -1)',
      '  -timeout           <int64>      .D....... set timeout (in microseconds) of socket I/O operations (from INT_MIN to I64_MAX) (default 0)',
    ].join('\n');
    expect(rtspTimeoutOptionFrom(help41)).toBe('-stimeout');
    expect(rtspTimeoutOptionFrom(help51)).toBe('-timeout');
    expect(rtspTimeoutOptionFrom('')).toBeNull();
  });
});

describe('frame slicer', () => {
  it('cuts any chunking into exact frames, viewing whole ones and copying split ones once', () => {
    const bytes = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    for (const cuts of [[40], [1, 39], [7, 7, 7, 7, 12], [25, 15], Array(40).fill(1)]) {
      const slicer = new FrameSlicer(12);
      const frames: Buffer[] = [];
      let at = 0;
      for (const n of cuts) {
        slicer.push(bytes.subarray(at, at + n), (f) => frames.push(Buffer.from(f)));
        at += n;
      }
      expect(frames.map((f) => [...f])).toEqual([0, 12, 24].map((s) => [...bytes.subarray(s, s + 12)]));
      expect(slicer.pendingBytes).toBe(4);
    }
    const whole = Buffer.alloc(24, 9);
    const views: Buffer[] = [];
    new FrameSlicer(12).push(whole, (f) => views.push(f));
    expect(views[0]?.buffer).toBe(whole.buffer);
  });
});

describe('frame channel', () => {
  it('latest: a newer frame overwrites the untaken one and reports the drop', async () => {
    const dropped: number[] = [];
    const ch = new FrameChannel<number>({ mode: 'latest', onDrop: (n) => dropped.push(n) });
    ch.push(1);
    ch.push(2);
    ch.push(3);
    expect(ch.size).toBe(1);
    expect(await ch.take()).toBe(3);
    expect(dropped).toEqual([1, 2]);
    const waiting = ch.take();
    ch.push(4);
    expect(await waiting).toBe(4);
    expect(dropped).toEqual([1, 2]);
  });

  it('queue: keeps every frame, tells the producer when one is taken, ends after the rest', async () => {
    let taken = 0;
    const ch = new FrameChannel<number>({ mode: 'queue', onTake: () => taken++ });
    ch.push(1);
    ch.push(2);
    ch.end();
    ch.push(3);
    expect([await ch.take(), await ch.take(), await ch.take()]).toEqual([1, 2, null]);
    expect(taken).toBe(2);
  });

  it('end({ discard }) hands untaken frames to onDrop and ends the consumer at once', async () => {
    const dropped: number[] = [];
    const ch = new FrameChannel<number>({ mode: 'queue', onDrop: (n) => dropped.push(n) });
    ch.push(1);
    ch.push(2);
    ch.end({ discard: true });
    expect(await ch.take()).toBeNull();
    expect(dropped).toEqual([1, 2]);
  });

  it('take() gives null when its signal aborts', async () => {
    const ch = new FrameChannel<number>({ mode: 'latest' });
    const controller = new AbortController();
    const waiting = ch.take(controller.signal);
    controller.abort();
    expect(await waiting).toBeNull();
    ch.push(5);
    expect(await ch.take()).toBe(5);
  });
});

describe('supervision parts', () => {
  it('keeps the last stderr lines, splitting on \\n and \\r', () => {
    const ring = new LineRing(3);
    expect(ring.write('a\nb\rc')).toEqual(['a', 'b']);
    ring.write('\nd\ne\n\nf');
    expect(ring.tail()).toEqual(['c', 'd', 'e', 'f']);
  });

  it('backs off exponentially up to the cap, with jitter from the injected random', () => {
    const delays = [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, { initialMs: 100, maxMs: 1000 }, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(2, { initialMs: 100, jitter: 0.5 }, () => 1)).toBe(200);
    expect(backoffDelay(2, { initialMs: 100, jitter: 0.5 }, () => 0.5)).toBe(300);
  });

  it('hides URL passwords', () => {
    expect(redactUrl('rtsp://admin:s3cr3t@10.0.0.5:554/stream1')).toBe(
      'rtsp://admin:***@10.0.0.5:554/stream1',
    );
    expect(redactUrl('rtsp://10.0.0.5/a:b@c')).toBe('rtsp://10.0.0.5/a:b@c');
  });
});

describe('source classification', () => {
  it('tells URLs, devices, video files and folders apart', async () => {
    expect(await classifySource('rtsps://cam.local/live')).toEqual({
      kind: 'rtsp',
      url: 'rtsps://cam.local/live',
    });
    expect(await classifySource('https://cam.local/snap.jpg')).toMatchObject({ kind: 'http' });
    expect(await classifySource('/dev/video3')).toEqual({ kind: 'v4l2', device: '/dev/video3' });
    expect(await classifySource(import.meta.dirname)).toEqual({
      kind: 'directory',
      path: import.meta.dirname,
    });
    await expect(classifySource('ftp://x/y')).rejects.toMatchObject({ code: 'UNSUPPORTED_SOURCE' });
    await expect(classifySource(import.meta.filename)).rejects.toMatchObject({ code: 'UNSUPPORTED_SOURCE' });
    await expect(classifySource('/nonexistent/clip.mp4')).rejects.toMatchObject({
      code: 'SOURCE_UNREADABLE',
    });
  });

  it('derives camera ids from the source', () => {
    expect(cameraIdFrom({ kind: 'file', path: '/v/car-detection.mp4' })).toBe('car-detection');
    expect(cameraIdFrom({ kind: 'rtsp', url: 'rtsp://u:p@10.0.0.5:554/Streaming/101' })).toBe(
      '10.0.0.5-554-Streaming-101',
    );
    expect(cameraIdFrom({ kind: 'v4l2', device: '/dev/video0' })).toBe('video0');
  });
});
