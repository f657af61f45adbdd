import { Counter, Gauge, type Registry } from 'prom-client';
import type { CameraView, FleetMonitor } from './fleet-monitor.ts';

/** The frame counts of a camera report, by the `stage` label they get. */
export const CAMERA_FRAME_STAGES = ['decoded', 'analysed', 'inferred', 'reused', 'dropped'] as const;

/** Every camera the fleet monitor knows, with its device. */
function cameras(monitor: FleetMonitor): { device: string; camera: CameraView }[] {
  return monitor
    .snapshot()
    .devices.flatMap((d) => d.cameras.map((camera) => ({ device: d.deviceId, camera })));
}

/**
 * Per-camera series from the agents' own reports, labelled `{device, camera}`. The running totals
 * are counters (`_total`): they only grow while an agent runs and start again at 0 when it
 * restarts, which `rate()` reads as a counter reset. Each scrape rebuilds the series from the
 * last reports, so a camera that leaves a report leaves `/metrics` too.
 */
export function registerCameraMetrics(registry: Registry, monitor: FleetMonitor): void {
  const labelNames = ['device', 'camera'] as const;
  new Counter({
    name: 'squeezegate_camera_frames_total',
    help: 'Frames of a camera by stage: decoded, analysed, inferred by the edge model, reused by the scene gate, dropped before a decision (agent report)',
    labelNames: [...labelNames, 'stage'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { device, camera } of cameras(monitor)) {
        for (const stage of CAMERA_FRAME_STAGES)
          this.inc({ device, camera: camera.id, stage }, camera[stage]);
      }
    },
  });
  new Counter({
    name: 'squeezegate_camera_restarts_total',
    help: 'Times a camera source was restarted after it ended or failed (agent report)',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { device, camera } of cameras(monitor))
        this.inc({ device, camera: camera.id }, camera.restarts);
    },
  });
  new Counter({
    name: 'squeezegate_camera_gap_seconds_total',
    help: 'Time a camera gave no frames between a failure and its restart (agent report)',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { device, camera } of cameras(monitor))
        this.inc({ device, camera: camera.id }, camera.gapMs / 1000);
    },
  });
  new Gauge({
    name: 'squeezegate_camera_tracks_open',
    help: 'Object tracks open on a camera now (agent report)',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { device, camera } of cameras(monitor))
        this.set({ device, camera: camera.id }, camera.tracksOpen);
    },
  });
  new Gauge({
    name: 'squeezegate_camera_info',
    help: 'Always 1: the kind of source a camera reads (file, rtsp, http, v4l2, folder)',
    labelNames: [...labelNames, 'source'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { device, camera } of cameras(monitor))
        this.set({ device, camera: camera.id, source: camera.source }, 1);
    },
  });
}
