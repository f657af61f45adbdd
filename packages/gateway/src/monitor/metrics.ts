import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BatcherStats } from '../inference/batcher.ts';
import { registerCameraMetrics } from './camera-metrics.ts';
import type { FleetMonitor } from './fleet-monitor.ts';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** One frame answered (or refused) for an edge: outcome is `ok` or the error code. */
  frame(outcome: string, seconds: number, cloudConfidence: number | null): void;
  /** A frame sent again under an id already answered or in flight (answered once, counted here). */
  duplicate(): void;
  bytesReceived(bytes: number): void;
  batch(size: number, seconds: number): void;
  modelLoaded(seconds: number): void;
}

/**
 * Prometheus metrics of one gateway (a registry of its own, so several gateways in one process
 * never share counters). Histograms, not summaries, so they aggregate across replicas.
 */
export function createGatewayMetrics(options: {
  batching: () => BatcherStats;
  monitor: FleetMonitor;
  devicesConnected: () => number;
}): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'squeezegate_' });
  const frames = new Counter({
    name: 'squeezegate_frames_total',
    help: 'Frames from edge agents, by outcome (ok, BUSY, IMAGE_UNDECODABLE, …)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'squeezegate_frame_latency_seconds',
    help: 'Time from a frame arriving to its answer at the gateway (decode, queue, inference)',
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const confidence = new Histogram({
    name: 'squeezegate_cloud_confidence',
    help: "The cloud model's top-1 probability on offloaded frames",
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'squeezegate_duplicate_frames_total',
    help: 'Frames received again under an id already answered or in flight (no inference, not in frames_total)',
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'squeezegate_bytes_received_total',
    help: 'Bytes of every message received from edge agents',
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'squeezegate_batch_size',
    help: 'Frames per inference batch',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const inference = new Histogram({
    name: 'squeezegate_inference_seconds',
    help: 'Wall time of one batch in the cloud backend',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [registry],
  });
  const modelLoad = new Gauge({
    name: 'squeezegate_model_load_seconds',
    help: 'How long the cloud backend took to become ready',
    registers: [registry],
  });
  new Gauge({
    name: 'squeezegate_queue_depth',
    help: 'Frames waiting for an inference batch',
    registers: [registry],
    collect() {
      this.set(options.batching().queued);
    },
  });
  new Gauge({
    name: 'squeezegate_devices_connected',
    help: 'Edge agents connected now',
    registers: [registry],
    collect() {
      this.set(options.devicesConnected());
    },
  });
  // From the agents' own reports: what they captured, offloaded and sent, per device.
  const fromReports = (
    name: string,
    help: string,
    pick: (d: ReturnType<FleetMonitor['snapshot']>['devices'][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['device'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const d of options.monitor.snapshot().devices) this.set({ device: d.deviceId }, pick(d));
      },
    });
  fromReports('squeezegate_edge_frames', 'Frames an agent captured (its last report)', (d) => d.frames);
  fromReports(
    'squeezegate_edge_offloaded',
    'Frames an agent offloaded (its last report)',
    (d) => d.offloaded,
  );
  fromReports('squeezegate_offload_ratio', 'Offloaded over captured frames, per agent', (d) => d.offloadRate);
  fromReports(
    'squeezegate_edge_bytes_captured',
    'Bytes of the frames as captured (last report)',
    (d) => d.capturedBytes,
  );
  fromReports(
    'squeezegate_edge_bytes_sent',
    'Bytes the agent sent for offloaded frames (last report)',
    (d) => d.sentBytes,
  );
  registerCameraMetrics(registry, options.monitor);
  return {
    registry,
    frame(outcome, seconds, cloudConfidence) {
      frames.inc({ outcome });
      latency.observe(seconds);
      if (cloudConfidence !== null) confidence.observe(cloudConfidence);
    },
    duplicate: () => duplicates.inc(),
    bytesReceived: (n) => bytes.inc(n),
    batch(size, seconds) {
      batchSize.observe(size);
      inference.observe(seconds);
    },
    modelLoaded: (seconds) => modelLoad.set(seconds),
  };
}
