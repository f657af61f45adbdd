import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { EventSink, SinkStats } from './event-sink.ts';

export interface JsonlSinkOptions {
  /** The file; created with its directory if missing, appended to if present. */
  path: string;
  logger: Logger;
  /** Bytes waiting for the disk beyond which events are dropped (and counted). Default 8 MiB. */
  maxBufferedBytes?: number;
}

export class EventSinkError extends Error {
  override readonly name = 'EventSinkError';
  readonly code: 'OPEN_FAILED';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.code = 'OPEN_FAILED';
  }
}

/**
 * One event per line, in the order written, appended to a file (a restarted agent continues the
 * same file). Opening fails with EventSinkError (the caller asked for this file); after that a
 * failing disk is logged once and events are counted as dropped, never thrown.
 */
export async function openJsonlSink(options: JsonlSinkOptions): Promise<EventSink> {
  const { maxBufferedBytes = 8 * 1024 * 1024 } = options;
  const file = path.resolve(options.path);
  const log = options.logger.child({ component: 'jsonl-sink', file });
  let stream: WriteStream;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    stream = createWriteStream(file, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (cause) {
    throw new EventSinkError(`cannot open event file ${file}: ${(cause as Error).message}`, { cause });
  }
  const stats: SinkStats = { written: 0, dropped: 0 };
  let failed = false;
  let overflowLogged = false;
  stream.on('error', (err) => {
    if (!failed) log.error({ err }, 'event file write failed; further events are dropped');
    failed = true;
  });

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      if (stream.closed || stream.destroyed) return resolve();
      stream.once('close', () => resolve());
      stream.end();
    });
    return closing;
  };

  return {
    write(event) {
      stats.written++;
      if (closing !== null || failed) {
        stats.dropped++;
        return;
      }
      if (stream.writableLength > maxBufferedBytes) {
        stats.dropped++;
        if (!overflowLogged) log.warn({ maxBufferedBytes }, 'event file is not keeping up; dropping events');
        overflowLogged = true;
        return;
      }
      overflowLogged = false;
      stream.write(`${JSON.stringify(event)}\n`);
    },
    get stats() {
      return { ...stats };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
