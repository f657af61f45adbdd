import { type BackoffBounds, fullJitterMs } from './backoff.ts';

/**
 * The link's answer to `BUSY`: for a jittered, exponentially growing while, it sends nothing (no
 * resend, no new frame), then lets the waiting frames go. Without it a shed device sends again
 * at once and keeps the gateway's queue full (issue 13 §2).
 *
 * One overload is one backoff step, not one per frame: the frames already in flight when the
 * gateway first says BUSY are answered BUSY together, and only a BUSY for a frame sent after the
 * last hold was drawn grows the next one (as TCP halves its window once per round trip, not once
 * per lost segment). A cloud answer ends the streak.
 */
export interface BusyHold {
  /** Stamp a frame with it when it goes on the wire; give it back with that frame's BUSY. */
  readonly epoch: number;
  /** Whether frames must wait now. */
  holding(): boolean;
  /** When the hold ends (performance.now() time; in the past when not holding). */
  readonly until: number;
  /** Consecutive backoff steps since the last cloud answer. */
  readonly streak: number;
  /**
   * A BUSY for a frame sent at `sentEpoch`. Draws a new hold when the frame left after the last
   * one was drawn; returns it (ms), or null when the BUSY belongs to an overload already backed off.
   */
  busy(sentEpoch: number): number | null;
  /** A cloud answer: the gateway has room again. */
  answered(): void;
  close(): void;
}

export interface BusyHoldOptions {
  bounds: BackoffBounds;
  random: () => number;
  /** Called when a hold ends: the frames that waited may go. */
  onRelease: () => void;
  now?: () => number;
}

export function createBusyHold(options: BusyHoldOptions): BusyHold {
  const { bounds, random, onRelease, now = () => performance.now() } = options;
  let epoch = 0;
  let streak = 0;
  let until = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | null = null;
  // Node's timers run on the event loop's millisecond clock, which may fire a fraction of a
  // millisecond before now() reaches `until`: the hold is re-armed for the rest, never cut short.
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(
      () => {
        timer = null;
        if (now() < until) return arm();
        onRelease();
      },
      Math.max(0, until - now()),
    );
    timer.unref();
  };
  return {
    get epoch() {
      return epoch;
    },
    get until() {
      return until;
    },
    get streak() {
      return streak;
    },
    holding: () => now() < until,
    busy(sentEpoch) {
      if (sentEpoch !== epoch) return null;
      const heldMs = fullJitterMs(bounds, streak, random);
      streak++;
      epoch++;
      until = Math.max(until, now() + heldMs);
      arm();
      return heldMs;
    },
    answered() {
      streak = 0;
    },
    close() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
