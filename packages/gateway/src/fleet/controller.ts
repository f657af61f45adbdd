/**
 * The fleet-wide offload controller (issue 13 §5). Every device gets the same bar: a frame leaves
 * when its confidence is below `threshold`. One common bar on one confidence scale is what sends
 * the least confident frames of the whole fleet first, and it gives a device whose scene is hard
 * (many unsure frames) more of the budget than one whose scene is easy, without any per-device
 * allocation. The controller only has to find the bar at which the fleet's offload rate meets the
 * budget: an integral controller on the measured rate that moves the bar multiplicatively (the
 * rate grows with the bar roughly as a power law), with a multiplicative decrease when the cloud tier saturates (AIMD's
 * MD): its queue past a high-water mark, or any BUSY answer, lowers the bar at once, before the
 * queue is full and frames are shed.
 *
 * Pure: time and the gateway's counters come in as samples.
 */

export interface FleetBudget {
  /** Frames per second the fleet may send to the cloud tier. */
  cloudFps?: number | undefined;
  /** Payload bytes per second the fleet may send. */
  uplinkBps?: number | undefined;
}

/** The gateway's running totals at one instant. */
export interface FleetSample {
  atMs: number;
  /** Frames taken as new work, since the start. */
  framesIn: number;
  /** Bytes received from the devices, since the start. */
  bytesIn: number;
  /** Frames waiting for inference now, and the most that may wait before BUSY. */
  queued: number;
  maxQueue: number;
  /** Frames answered BUSY, since the start. */
  busy: number;
  /** Frames the cloud tier has run, since the start (its service rate when a queue stands). */
  served: number;
}

export interface FleetStep {
  threshold: number;
  /** What the fleet sent over the last interval. */
  fps: number;
  bps: number;
  /** max(fps / cloud budget, bps / uplink budget): 1 is on budget. */
  load: number;
  saturated: boolean;
  /** What the cloud tier was seen to serve when it last saturated (frames/s), raised 2 % a step since. */
  ceilingFps: number | null;
  reason: string;
}

export interface FleetControllerOptions {
  budget: FleetBudget;
  /** The bar before the first measurement (default 0.5). */
  initialThreshold?: number;
  /** Integral gain per step on the relative error 1 − rate / budget, applied to log(bar) (default 0.3). */
  gain?: number;
  /**
   * Share of `maxQueue` at which the cloud tier counts as saturated (default 0.5): the queue now
   * plus its growth over the last interval, so a queue filling fast counts before it is full.
   */
  highWater?: number;
  /** Factor the bar is multiplied by per saturated step (default 0.7). */
  decrease?: number;
  /** The bar never goes below this (default 0.005), so an idle fleet is seen again. */
  minThreshold?: number;
}

export interface FleetController {
  readonly threshold: number;
  /** Takes the counters now; the first call only sets the baseline. */
  step(sample: FleetSample): FleetStep;
}

export function createFleetController(options: FleetControllerOptions): FleetController {
  const { budget, gain = 0.3, highWater = 0.5, decrease = 0.7, minThreshold = 0.005 } = options;
  const { cloudFps, uplinkBps } = budget;
  if (cloudFps === undefined && uplinkBps === undefined)
    throw new RangeError('a fleet budget needs cloudFps or uplinkBps');
  let threshold = options.initialThreshold ?? 0.5;
  let last: FleetSample | null = null;
  let ceilingFps: number | null = null;
  // Below what the tier served while saturated, so its queue drains.
  const ceilingShare = 0.9;
  const clamp = (t: number) => Math.min(1, Math.max(minThreshold, t));
  return {
    get threshold() {
      return threshold;
    },
    step(sample) {
      const prev = last;
      last = sample;
      const dt = prev ? (sample.atMs - prev.atMs) / 1000 : 0;
      if (!prev || dt <= 0)
        return {
          threshold,
          fps: 0,
          bps: 0,
          load: 0,
          saturated: false,
          ceilingFps,
          reason: 'fleet: first sample',
        };
      const fps = Math.max(0, sample.framesIn - prev.framesIn) / dt;
      const bps = Math.max(0, sample.bytesIn - prev.bytesIn) / dt;
      const load = Math.max(
        cloudFps === undefined ? 0 : fps / cloudFps,
        uplinkBps === undefined ? 0 : bps / uplinkBps,
      );
      const shed = sample.busy > prev.busy;
      // Where the queue will be one interval on if it keeps growing as it did: act before it is full.
      const ahead = sample.queued + Math.max(0, sample.queued - prev.queued);
      const saturated = shed || ahead >= highWater * sample.maxQueue;
      const served = Math.max(0, sample.served - prev.served) / dt;
      const budgetText = [
        cloudFps === undefined ? null : `${fps.toFixed(1)}/${cloudFps} fps`,
        uplinkBps === undefined ? null : `${Math.round(bps)}/${uplinkBps} B/s`,
      ]
        .filter((s) => s !== null)
        .join(', ');
      if (saturated) {
        threshold = clamp(threshold * decrease);
        // The tier's capacity, as far as this interval shows it: the budget until it is seen again.
        if (served > 0) ceilingFps = Math.min(ceilingFps ?? Number.POSITIVE_INFINITY, ceilingShare * served);
        const why = shed ? 'BUSY answers' : `queue ${sample.queued}/${sample.maxQueue}`;
        return {
          threshold,
          fps,
          bps,
          load,
          saturated,
          ceilingFps,
          reason: `fleet ${budgetText}; cloud saturated (${why})`,
        };
      }
      // The ceiling creeps up again (additive increase, as a share), so a tier that recovers is used.
      if (ceilingFps !== null) ceilingFps *= 1.02;
      const ceilingLoad = ceilingFps === null ? 0 : fps / ceilingFps;
      const limiting = Math.max(load, ceilingLoad);
      // The relative error, bounded. Linear, not log(budget / rate): its mean is zero exactly when
      // the mean rate meets the budget (a log error would settle a noisy rate a little above it).
      const error = Math.max(-1, Math.min(1, 1 - limiting));
      threshold = clamp(threshold * Math.exp(gain * error));
      const capped = ceilingLoad > load ? `; cloud ceiling ${ceilingFps?.toFixed(1)} fps` : '';
      return { threshold, fps, bps, load, saturated, ceilingFps, reason: `fleet ${budgetText}${capped}` };
    },
  };
}
