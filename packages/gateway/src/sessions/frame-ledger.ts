/**
 * What to do with a frame that just arrived, by its device and frame id.
 * - `new`: run it, then `settle` with the answer (the serialized `result` or `error` message);
 *   `remember: false` for outcomes worth retrying (busy, rate limited…), which are not kept.
 * - `answered`: it was answered before; send this text again, run nothing.
 * - `in-flight`: the same frame is being answered (on this or an earlier connection); send the
 *   text this promise gives.
 */
export type FrameClaim =
  | { kind: 'new'; settle(answer: string, options: { remember: boolean }): void }
  | { kind: 'answered'; answer: string }
  | { kind: 'in-flight'; answer: Promise<string> };

export interface FrameLedger {
  /**
   * `fingerprint` identifies the frame's content: an id that comes back with other bytes is a new
   * frame (an agent that restarted and counts its ids from zero again), never a repeat. A shared
   * ledger (state/redis-ledger.ts) may need a round trip, hence the promise.
   */
  claim(deviceId: string, frameId: string, fingerprint: string): FrameClaim | Promise<FrameClaim>;
  /** Drops what is kept for a device (revoked or removed). */
  forget(deviceId: string): void;
  /** Answers kept for a device (in flight included). */
  size(deviceId: string): number;
}

/** The in-memory ledger answers at once. */
export interface MemoryFrameLedger extends FrameLedger {
  claim(deviceId: string, frameId: string, fingerprint: string): FrameClaim;
}

type Entry =
  | { fingerprint: string; answer: string; pending?: never }
  | { fingerprint: string; answer?: never; pending: Promise<string> };

/**
 * Makes frame answers idempotent: agents resend a frame under the same id after a reconnect, and
 * the gateway must answer it once. Per device, a least-recently-used map of frame id → answer
 * (`perDevice` entries at most, in-flight ones included) lives across that device's connections.
 */
export function createFrameLedger(options: { perDevice: number }): MemoryFrameLedger {
  const { perDevice } = options;
  const devices = new Map<string, Map<string, Entry>>();

  return {
    claim(deviceId, frameId, fingerprint) {
      let entries = devices.get(deviceId);
      if (!entries) {
        entries = new Map();
        devices.set(deviceId, entries);
      }
      const known = entries.get(frameId);
      if (known?.fingerprint === fingerprint) {
        // Map order is insertion order: re-inserting makes it the most recently used.
        entries.delete(frameId);
        entries.set(frameId, known);
        return known.pending
          ? { kind: 'in-flight', answer: known.pending }
          : { kind: 'answered', answer: known.answer };
      }
      let resolve: (answer: string) => void = () => {};
      const pending = new Promise<string>((r) => {
        resolve = r;
      });
      const entry: Entry = { fingerprint, pending };
      entries.delete(frameId);
      entries.set(frameId, entry);
      for (const oldest of entries.keys()) {
        if (entries.size <= perDevice) break;
        entries.delete(oldest);
      }
      const mine = entries;
      return {
        kind: 'new',
        settle(answer, { remember }) {
          resolve(answer);
          // Evicted meanwhile, or replaced by a different frame under the same id: not ours to touch.
          if (mine.get(frameId) !== entry) return;
          if (remember) mine.set(frameId, { fingerprint, answer });
          else mine.delete(frameId);
        },
      };
    },
    forget(deviceId) {
      devices.delete(deviceId);
    },
    size: (deviceId) => devices.get(deviceId)?.size ?? 0,
  };
}
