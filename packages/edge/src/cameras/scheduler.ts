import type { Logger } from 'pino';
import type { CapturedFrame, FrameSource } from '../source/frame-source.ts';

/** The local stage of one frame; resolves with its pending cloud round trip, if it sent anything. */
export type FrameStep = (frame: CapturedFrame) => Promise<{ cloud: Promise<void> } | null>;

/** One camera as the scheduler sees it: where its frames come from and what decides each one. */
export interface CameraLane {
  source: FrameSource;
  step: FrameStep;
}

export interface RunCamerasOptions {
  /** Cloud round trips in flight at once, over every camera; capture waits beyond this. */
  maxInFlight: number;
  log: Logger;
  signal?: AbortSignal | undefined;
}

type Pull = IteratorResult<CapturedFrame>;

/**
 * Runs several cameras through one model: one frame's local stage at a time, taken from the
 * cameras in turn (round robin over those with a frame ready), so a busy camera cannot starve a
 * quiet one. Each camera holds at most one frame waiting here; a live source keeps only its
 * newest frame meanwhile and counts the ones it overwrites. Resolves when every source has ended
 * (or the signal fired) and every frame has its result.
 */
export async function runCameras(lanes: readonly CameraLane[], options: RunCamerasOptions): Promise<void> {
  const { maxInFlight, log, signal } = options;
  const inFlight = new Set<Promise<void>>();
  const iterators = lanes.map((lane) => lane.source.frames(signal ? { signal } : {})[Symbol.asyncIterator]());
  const ready: (Pull | null)[] = lanes.map(() => null);
  const pending: (Promise<number> | null)[] = lanes.map(() => null);
  const done = lanes.map(() => false);
  let turn = 0;

  const pull = (k: number) => {
    pending[k] ??= iterators[k]!.next().then(
      (r) => {
        ready[k] = r;
        pending[k] = null;
        return k;
      },
      (err: unknown) => {
        log.error({ err, camera: lanes[k]!.source.camera }, 'camera source failed; it stops');
        ready[k] = { done: true, value: undefined };
        pending[k] = null;
        return k;
      },
    );
  };

  while (done.some((d) => !d)) {
    for (let k = 0; k < lanes.length; k++) if (!done[k] && !ready[k]) pull(k);
    if (ready.every((r) => r === null)) {
      const waiting = pending.filter((p): p is Promise<number> => p !== null);
      if (waiting.length === 0) break;
      await Promise.race(waiting);
    }
    // The next camera after the last one served that has something ready.
    let k = -1;
    for (let i = 0; i < lanes.length; i++) {
      const c = (turn + i) % lanes.length;
      if (ready[c]) {
        k = c;
        break;
      }
    }
    if (k < 0) continue;
    const result = ready[k]!;
    ready[k] = null;
    if (result.done) {
      done[k] = true;
      continue;
    }
    turn = (k + 1) % lanes.length;
    const step = await lanes[k]!.step(result.value);
    if (!step) continue;
    const entry = step.cloud.catch((err: unknown) => log.error({ err }, 'offload bookkeeping failed'));
    inFlight.add(entry);
    void entry.finally(() => inFlight.delete(entry));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
