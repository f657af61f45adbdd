import type { Logger } from 'pino';
import type { CapturedFrame, FrameSource } from '../source/frame-source.ts';

/**
 * The local stage of one frame; resolves with what it still waits for: its cloud round trip, or
 * (`reuse`) another frame's result, which takes no cloud slot.
 */
export type FrameStep = (frame: CapturedFrame) => Promise<{ cloud: Promise<void>; reuse?: boolean } | null>;

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
  // Frames waiting for another frame's result hold no cloud slot: only awaited at the end.
  const reusing = new Set<Promise<void>>();
  const iterators = lanes.map((lane) => lane.source.frames(signal ? { signal } : {})[Symbol.asyncIterator]());
  const ready: (Pull | null)[] = lanes.map(() => null);
  const pulling = lanes.map(() => false);
  const done = lanes.map(() => false);
  // One wake-up for whichever camera delivers next: racing the pending pulls again on every loop
  // would pile reactions onto a camera that stays offline for hours.
  let wake: () => void = () => {};
  let turn = 0;

  const pull = (k: number) => {
    if (pulling[k]) return;
    pulling[k] = true;
    iterators[k]!.next().then(
      (r) => {
        ready[k] = r;
        pulling[k] = false;
        wake();
      },
      (err: unknown) => {
        log.error({ err, camera: lanes[k]!.source.camera }, 'camera source failed; it stops');
        ready[k] = { done: true, value: undefined };
        pulling[k] = false;
        wake();
      },
    );
  };

  const track = (set: Set<Promise<void>>, p: Promise<void>) => {
    const entry = p.catch((err: unknown) => log.error({ err }, 'offload bookkeeping failed'));
    set.add(entry);
    void entry.finally(() => set.delete(entry));
  };

  while (done.some((d) => !d)) {
    for (let k = 0; k < lanes.length; k++) if (!done[k] && !ready[k]) pull(k);
    if (ready.every((r) => r === null)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (ready.some((r) => r !== null)) resolve();
      });
      wake = () => {};
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
    track(step.reuse ? reusing : inFlight, step.cloud);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await Promise.all(reusing);
}
