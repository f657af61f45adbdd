import path from 'node:path';
import { type DirectorySourceOptions, openDirectorySource } from './directory-source.ts';
import type { CapturedFrame, FrameSource, SourceStats } from './frame-source.ts';

export interface DirectoryFrameSourceOptions extends Omit<DirectorySourceOptions, 'fps'> {
  camera?: string | undefined;
  /** Frames per second to pace the replay at; 0 or absent = as fast as the consumer takes them. */
  fps?: number | undefined;
}

/**
 * Today's image folder behind the FrameSource interface: frames are files (`image.kind` 'file'),
 * never dropped, and the folder never restarts. A thin adapter until the folder source itself
 * speaks FrameSource.
 */
export async function openDirectoryFrameSource(options: DirectoryFrameSourceOptions): Promise<FrameSource> {
  const { camera = path.basename(path.resolve(options.dir)), fps = 0, ...rest } = options;
  const folder = await openDirectorySource({ ...rest, fps });
  let decoded = 0;
  let closed = false;
  const stop = new AbortController();
  let iterated = false;

  async function* iterate(signal: AbortSignal | undefined): AsyncGenerator<CapturedFrame> {
    if (iterated) throw new Error(`camera ${camera}: frames() can be iterated once`);
    iterated = true;
    const both = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    for await (const f of folder.replay({ signal: both })) {
      if (closed) return;
      decoded += 1;
      yield {
        camera,
        seq: f.seq,
        capturedAt: Date.now(),
        ptsMs: null,
        name: f.name,
        truth: f.truth,
        image: { kind: 'file', file: f.file },
      };
    }
  }

  const close = async () => {
    closed = true;
    stop.abort();
  };
  return {
    camera,
    live: false,
    lastError: null,
    frames: ({ signal } = {}) => iterate(signal),
    stats: (): SourceStats => ({ decoded, dropped: 0, restarts: 0, gaps: [] }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
