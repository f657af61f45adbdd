import type { CameraEvent } from '../temporal/frigate.ts';

export interface SinkStats {
  /** Events handed to `write`. */
  written: number;
  /** Events given up: the sink was closed, failed, or its bounded buffer overflowed. */
  dropped: number;
}

/**
 * Where camera events go (JSON lines, MQTT, …). `write` never blocks and never throws: a sink
 * that cannot deliver buffers within a bound, then drops and counts, and logs why. `close`
 * flushes what it can within its own time bound, is idempotent, and always resolves.
 */
export interface EventSink {
  write(event: CameraEvent): void;
  readonly stats: SinkStats;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One sink that writes every event to each of `sinks`, in order, and closes them all. */
export function fanOut(sinks: readonly EventSink[]): EventSink {
  const close = async () => {
    await Promise.all(sinks.map((s) => s.close()));
  };
  return {
    write(event) {
      for (const s of sinks) s.write(event);
    },
    get stats() {
      return {
        written: Math.max(0, ...sinks.map((s) => s.stats.written)),
        dropped: sinks.reduce((n, s) => n + s.stats.dropped, 0),
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
