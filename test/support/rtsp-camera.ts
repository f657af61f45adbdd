import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

/** Debian's `rtsp-server-perl`, when installed (apt `rtsp-server-perl`). */
export const rtspServerPath: string | null = (() => {
  try {
    const found = execFileSync('which', ['rtsp-server-perl'], { encoding: 'utf8' }).trim();
    return found && existsSync(found) ? found : null;
  } catch {
    return null;
  }
})();

export interface RtspCameraOptions {
  /** The clip to loop, e.g. `video-sample/car-detection.mp4`. */
  clip: string;
  /** The ffmpeg that publishes it (the static 4.1 of `@ffmpeg-installer/ffmpeg` works). */
  ffmpeg: string;
  /** Stream path; default `cam1`. */
  path?: string;
  /** Re-encode to H.264 instead of copying the clip's stream (for codecs RTP cannot carry as-is). */
  reencode?: boolean;
}

/** A real RTSP camera for tests: the relay plus a publisher looping a clip at its own pace. */
export interface RtspCamera {
  /** Where clients read: `rtsp://127.0.0.1:<client port>/<path>`; the same across stop/start. */
  readonly url: string;
  /** Starts the server (waits for its ports) and the publisher. */
  start(): Promise<void>;
  /** Kills server and publisher, as a camera that goes off the network. */
  stop(): Promise<void>;
  close(): Promise<void>;
  /** The last lines both children wrote, for a failing test's message. */
  logs(): string[];
  [Symbol.asyncDispose](): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`rtsp-server-perl did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function kill(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * Serves `clip` as an RTSP camera: `rtsp-server-perl` on free loopback ports (it relays RTP over
 * UDP only, so clients need `-rtsp_transport udp`) and an ffmpeg publisher that ANNOUNCEs the
 * clip looped at its real pace. Not started: call `start()`.
 */
export async function createRtspCamera(options: RtspCameraOptions): Promise<RtspCamera> {
  if (rtspServerPath === null)
    throw new Error('rtsp-server-perl is not installed (apt install rtsp-server-perl)');
  const server = rtspServerPath;
  const { clip, ffmpeg, path = 'cam1', reencode = false } = options;
  const clientPort = await freePort();
  let sourcePort = await freePort();
  while (sourcePort === clientPort) sourcePort = await freePort();
  // Each client takes two RTP ports from here; a random base keeps parallel test files apart.
  const rtpStart = 30000 + 2 * Math.floor(Math.random() * 14000);
  const lines: string[] = [];
  const keep = (tag: string) => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n|\r/)) {
      if (line.trim()) lines.push(`${tag}: ${line.slice(0, 300)}`);
    }
    lines.splice(0, Math.max(0, lines.length - 60));
  };
  let relay: ChildProcess | null = null;
  let publisher: ChildProcess | null = null;

  const stop = async () => {
    const [r, p] = [relay, publisher];
    relay = null;
    publisher = null;
    await Promise.all([kill(p), kill(r)]);
  };

  const start = async () => {
    if (relay !== null) return;
    relay = spawn(
      server,
      [
        '-c',
        String(clientPort),
        '-s',
        String(sourcePort),
        '--client_listen_address',
        '127.0.0.1',
        '--source_listen_address',
        '127.0.0.1',
        '--rtp_start_port',
        String(rtpStart),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    relay.stdout?.on('data', keep('server'));
    relay.stderr?.on('data', keep('server'));
    await waitForPort(sourcePort, 15_000);
    await waitForPort(clientPort, 15_000);
    const codec = reencode
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-pix_fmt', 'yuv420p']
      : ['-c', 'copy'];
    publisher = spawn(
      ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-nostats',
        '-loglevel',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        clip,
        '-map',
        '0:v:0',
        ...codec,
        '-f',
        'rtsp',
        '-rtsp_transport',
        'udp',
        `rtsp://127.0.0.1:${sourcePort}/${path}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    publisher.stderr?.on('data', keep('publisher'));
  };

  return {
    url: `rtsp://127.0.0.1:${clientPort}/${path}`,
    start,
    stop,
    close: stop,
    logs: () => [...lines],
    [Symbol.asyncDispose]: stop,
  };
}
