import type { ConfidenceMeasure, GatewayConfig, PolicyMessage } from '@squeezegate/shared';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { createFleetController, type FleetSample, type FleetStep } from './controller.ts';

export interface FleetControl {
  /** The bar in force, for a device that connects between two steps; null before the first. */
  current(): PolicyMessage | null;
  /** Runs one step now (tests; the timer calls it every interval). */
  tick(): FleetStep;
  /** Stops the timer and hands every device its own policy back (threshold null). */
  close(): Promise<void>;
}

export interface FleetControlOptions {
  fleet: NonNullable<GatewayConfig['fleet']>;
  /** The gateway's counters now. */
  sample: () => Omit<FleetSample, 'atMs'>;
  /** Sends a text message to every authenticated device session; how many got it. */
  broadcast: (text: string) => number;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
}

/** Runs the fleet controller every `intervalMs` and sends each new bar to every device. */
export function createFleetControl(options: FleetControlOptions): FleetControl {
  const { fleet, sample, broadcast } = options;
  const now = options.now ?? (() => performance.now());
  const log = options.logger.child({ component: 'fleet' });
  const controller = createFleetController({
    budget: { cloudFps: fleet.budgetCloudFps, uplinkBps: fleet.budgetUplinkBps },
  });
  const measure: ConfidenceMeasure = fleet.measure;
  // A bar outlives a few missed steps, not a gateway that went away.
  const ttlMs = Math.max(5 * fleet.intervalMs, 5000);
  const gauges = options.registry && {
    threshold: new Gauge({
      name: 'squeezegate_fleet_threshold',
      help: 'The common offload bar sent to every device (a frame leaves below it)',
      registers: [options.registry],
    }),
    load: new Gauge({
      name: 'squeezegate_fleet_load',
      help: "The fleet's offload rate over its budget in the last interval (1 = on budget)",
      registers: [options.registry],
    }),
  };
  let seq = 0;
  let latest: PolicyMessage | null = null;
  let saturatedBefore = false;

  const tick = (): FleetStep => {
    const step = controller.step({ atMs: now(), ...sample() });
    latest = {
      type: 'policy',
      seq: seq++,
      measure,
      threshold: Math.round(step.threshold * 1e4) / 1e4,
      ttlMs,
      reason: step.reason.slice(0, 200),
    };
    const sent = broadcast(JSON.stringify(latest));
    gauges?.threshold.set(step.threshold);
    gauges?.load.set(step.load);
    if (step.saturated !== saturatedBefore)
      log.warn(
        { threshold: step.threshold, reason: step.reason },
        step.saturated ? 'cloud tier saturated, bar lowered' : 'cloud tier no longer saturated',
      );
    saturatedBefore = step.saturated;
    log.debug(
      { threshold: step.threshold, fps: step.fps, bps: step.bps, load: step.load, devices: sent },
      'fleet bar',
    );
    return step;
  };
  const timer = setInterval(tick, fleet.intervalMs);
  timer.unref();
  log.info(
    {
      budgetCloudFps: fleet.budgetCloudFps,
      budgetUplinkBps: fleet.budgetUplinkBps,
      intervalMs: fleet.intervalMs,
      measure,
    },
    'fleet budget on',
  );
  let closed = false;
  return {
    current: () => latest,
    tick,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const release: PolicyMessage = {
        type: 'policy',
        seq: seq++,
        measure,
        threshold: null,
        ttlMs,
        reason: 'fleet budget off',
      };
      broadcast(JSON.stringify(release));
    },
  };
}
