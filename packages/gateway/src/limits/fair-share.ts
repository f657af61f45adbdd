/** A frame's place in the cloud pipeline: give it back once the frame is answered. */
export interface FairShareSlot {
  release(): void;
}

export interface FairShareStats {
  /** Frames of every device in the cloud pipeline now. */
  held: number;
  /** Frames refused (answered BUSY) because their device held its share under pressure. */
  refused: number;
}

export interface FairShare {
  /**
   * A slot for one frame of the device, or null: the queue is under pressure and the device
   * already holds its share (the frame is answered BUSY, and the device backs off).
   */
  take(deviceId: string): FairShareSlot | null;
  /** What each device is sure to get under pressure, with the devices connected now. */
  share(): number;
  stats(): FairShareStats;
}

/**
 * Each device's share of the inference queue (issue 13 §2: one device sending back to back must
 * not get the others' frames shed): per-device caps that bite only under pressure, so a device
 * alone, or a quiet fleet, keeps the queue. With `half = floor(capacity / 2)` and each device's
 * share `max(1, floor((capacity - half) / devices))`, a frame is taken when
 * - fewer than `half` frames are held (decoding, queued or running) by all devices; or
 * - its device holds fewer than its share; or
 * - after it, the room left still covers every other device's unused share (the devices that hold
 *   nothing included): a device borrows only what no one else is sure to get.
 * Then `held + Σ unused shares ≤ capacity` holds (while the number of devices stays), so a device
 * under its share always finds room in the queue, however fast another sends. (With more devices
 * than `capacity - half`, each still has one frame and the queue may fill.) Frames through the /v2
 * API are not counted here: they share the queue as before.
 */
export function createFairShare(options: {
  /**
   * Frames held at most: the queue's bound plus the batches that can run at once (one frame each).
   * While every batch slot is busy, each running batch holds a frame at least, so held frames
   * within this leave room in the queue; with a slot free, the batcher dispatches any full batch.
   */
  capacity: number;
  /** Devices connected now (sessions: a device reconnecting counts twice for a moment). */
  devices: () => number;
}): FairShare {
  const { capacity, devices } = options;
  const half = Math.floor(capacity / 2);
  /** Frames held, by device; devices holding none are absent. */
  const byDevice = new Map<string, number>();
  let held = 0;
  let refused = 0;
  const share = () => Math.max(1, Math.floor((capacity - half) / Math.max(1, devices())));
  /** The shares the devices other than `deviceId` have not used. O(devices holding frames). */
  const unusedByOthers = (deviceId: string, each: number) => {
    let holding = 0;
    let unused = 0;
    for (const [id, n] of byDevice) {
      if (id === deviceId) continue;
      holding++;
      if (n < each) unused += each - n;
    }
    const idle = Math.max(0, Math.max(1, devices()) - 1 - holding);
    return unused + idle * each;
  };

  return {
    take(deviceId) {
      const mine = byDevice.get(deviceId) ?? 0;
      if (held >= half) {
        const each = share();
        if (mine >= each && held + 1 + unusedByOthers(deviceId, each) > capacity) {
          refused++;
          return null;
        }
      }
      byDevice.set(deviceId, mine + 1);
      held++;
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          held--;
          const left = (byDevice.get(deviceId) ?? 1) - 1;
          if (left > 0) byDevice.set(deviceId, left);
          else byDevice.delete(deviceId);
        },
      };
    },
    share,
    stats: () => ({ held, refused }),
  };
}
