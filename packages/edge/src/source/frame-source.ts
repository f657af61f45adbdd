import type { RawImage } from '@squeezegate/shared';

/** One frame as a camera delivers it to the agent. */
export interface CapturedFrame {
  /** Camera id. */
  camera: string;
  /** Per camera, increasing from 0; never reused across ffmpeg restarts, so a jump means drops. */
  seq: number;
  /** Epoch ms when the frame was read (from the injected clock). */
  capturedAt: number;
  /** Position in the stream for files (frame index / fps × 1000), else null. */
  ptsMs: number | null;
  /** File name for folders; `${camera}-${ptsMs}` for video files; `${camera}-${seq}` for live sources. */
  name: string;
  /** Ground-truth class index, when the source is labelled. */
  truth: number | null;
  image: { kind: 'file'; file: string } | { kind: 'raw'; raw: RawImage };
}

/** A period without frames from a camera, in epoch ms; `to` is null while it lasts. */
export interface Gap {
  from: number;
  to: number | null;
  reason: string;
}

export interface SourceStats {
  /** Frames read from the camera, delivered or dropped. */
  decoded: number;
  /** Frames overwritten in the latest-frame slot before the consumer took them, or left untaken at close. */
  dropped: number;
  /** Times the camera was reopened after a failure. */
  restarts: number;
  /** The latest gaps (at most 100). */
  gaps: Gap[];
  /** The total length of every gap that has closed, however old; a counter that never goes down. */
  closedGapMs?: number;
}

export interface FrameSource {
  readonly camera: string;
  /** Live sources never wait for the consumer: the newest frame wins and older ones are dropped. */
  readonly live: boolean;
  /**
   * Why the source ended early (a file that failed to decode, a truncated file), or the last
   * failure of a live source; null when all went well.
   */
  readonly lastError: Error | null;
  /** The frames; one iteration per source. Ends at the end of a file, on `close()` or on abort. */
  frames(options?: { signal?: AbortSignal }): AsyncIterable<CapturedFrame>;
  stats(): SourceStats;
  /**
   * Stops intake and ends any child process (SIGTERM, then SIGKILL, awaiting its exit);
   * idempotent. Frames read but not yet taken are counted as dropped (and passed to `onDrop`),
   * so `decoded` = taken + `dropped` once closed.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The analysis size: the short or the long side in pixels (even), the other side keeps the aspect, rounded to even. */
export type Scale = { shortSide: number } | { longSide: number };

/** Callbacks a source reports to, so the agent can record drops and gaps. */
export interface SourceHooks {
  /** A frame overwritten in the latest-frame slot (live sources), or left untaken at close. */
  onDrop?: ((frame: CapturedFrame) => void) | undefined;
  /** Called when a gap opens (`to` null) and again when it closes (`to` set). */
  onGap?: ((gap: Gap) => void) | undefined;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Restart delays: `initialMs × factor^attempt`, capped at `maxMs`, then scaled by a jitter in [1 − jitter, 1]. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  jitter?: number;
}
