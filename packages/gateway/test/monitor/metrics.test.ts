import { createFleetMonitor, createGatewayMetrics } from '@squeezegate/gateway';
import type { Stats } from '@squeezegate/shared';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

type CameraStats = NonNullable<Stats['cameras']>[number];

const totals = {
  type: 'stats',
  frames: 50,
  offloaded: 4,
  capturedBytes: 500_000,
  sentBytes: 20_000,
} as const;
const lot: CameraStats = {
  id: 'lot',
  source: 'rtsp',
  decoded: 750,
  analysed: 150,
  inferred: 45,
  reused: 101,
  dropped: 4,
  restarts: 2,
  gapMs: 3150,
  tracksOpen: 3,
  events: [{ type: 'new', label: 'car', trackId: '17', at: 1_700_000_000_000 }],
};
const desk: CameraStats = {
  id: 'desk',
  source: 'file',
  decoded: 90,
  analysed: 30,
  inferred: 12,
  reused: 18,
  dropped: 0,
  restarts: 0,
  gapMs: 0,
  tracksOpen: 0,
  events: [],
};

/** The gateway's `/metrics` route over a monitor fed by hand, as server.ts mounts it. */
function setup() {
  const monitor = createFleetMonitor({ now: () => 1_700_000_000_000 });
  const metrics = createGatewayMetrics({
    monitor,
    batching: () => ({ queued: 0, running: 0, batches: 0, items: 0, busy: 0 }),
    devicesConnected: () => 0,
  });
  const app = new Hono();
  app.get('/metrics', async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  const scrape = async () => {
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  return { monitor, scrape };
}

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition: samples by metric name, and each metric's TYPE. */
function parseExposition(text: string) {
  const samples = new Map<string, Sample[]>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)) labels[k!] = v!;
    const list = samples.get(m[1]!) ?? [];
    list.push({ labels, value: Number(m[3]) });
    samples.set(m[1]!, list);
  }
  /** The value of the one sample with exactly these labels; undefined if none. */
  const value = (name: string, labels: Record<string, string>) => {
    const hits = (samples.get(name) ?? []).filter(
      (s) =>
        Object.keys(s.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    expect(hits.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
    return hits[0]?.value;
  };
  return { samples: (name: string) => samples.get(name) ?? [], types, value };
}

describe('per-camera metrics', () => {
  it('exposes every camera of every device with its counts, labelled {device, camera}', async () => {
    const { monitor, scrape } = setup();
    monitor.reportStats('edge-1', { ...totals, cameras: [lot, desk] });
    monitor.reportStats('edge-2', { ...totals, cameras: [{ ...lot, decoded: 9, restarts: 0, gapMs: 0 }] });
    const m = await scrape();

    expect(m.types.get('squeezegate_camera_frames_total')).toBe('counter');
    expect(m.types.get('squeezegate_camera_restarts_total')).toBe('counter');
    expect(m.types.get('squeezegate_camera_gap_seconds_total')).toBe('counter');
    expect(m.types.get('squeezegate_camera_tracks_open')).toBe('gauge');

    const frames = (device: string, camera: string, stage: string) =>
      m.value('squeezegate_camera_frames_total', { device, camera, stage });
    expect(
      ['decoded', 'analysed', 'inferred', 'reused', 'dropped'].map((s) => frames('edge-1', 'lot', s)),
    ).toEqual([750, 150, 45, 101, 4]);
    expect(
      ['decoded', 'analysed', 'inferred', 'reused', 'dropped'].map((s) => frames('edge-1', 'desk', s)),
    ).toEqual([90, 30, 12, 18, 0]);
    expect(frames('edge-2', 'lot', 'decoded')).toBe(9);
    // 3 cameras × 5 stages, nothing else.
    expect(m.samples('squeezegate_camera_frames_total')).toHaveLength(15);

    expect(m.value('squeezegate_camera_restarts_total', { device: 'edge-1', camera: 'lot' })).toBe(2);
    expect(m.value('squeezegate_camera_restarts_total', { device: 'edge-2', camera: 'lot' })).toBe(0);
    expect(m.value('squeezegate_camera_gap_seconds_total', { device: 'edge-1', camera: 'lot' })).toBe(3.15);
    expect(m.value('squeezegate_camera_gap_seconds_total', { device: 'edge-1', camera: 'desk' })).toBe(0);
    expect(m.value('squeezegate_camera_tracks_open', { device: 'edge-1', camera: 'lot' })).toBe(3);
    expect(m.value('squeezegate_camera_tracks_open', { device: 'edge-1', camera: 'desk' })).toBe(0);
    expect(m.value('squeezegate_camera_info', { device: 'edge-1', camera: 'lot', source: 'rtsp' })).toBe(1);
    expect(m.value('squeezegate_camera_info', { device: 'edge-1', camera: 'desk', source: 'file' })).toBe(1);
    // The per-device series from the same reports are still there.
    expect(m.value('squeezegate_edge_frames', { device: 'edge-1' })).toBe(50);
  });

  it('follows the last report: values move on, and a camera that left is gone', async () => {
    const { monitor, scrape } = setup();
    monitor.reportStats('edge-1', { ...totals, cameras: [lot, desk] });
    expect(
      (await scrape()).value('squeezegate_camera_tracks_open', { device: 'edge-1', camera: 'lot' }),
    ).toBe(3);

    monitor.reportStats('edge-1', { ...totals, cameras: [{ ...lot, decoded: 800, tracksOpen: 1 }] });
    const next = await scrape();
    expect(
      next.value('squeezegate_camera_frames_total', { device: 'edge-1', camera: 'lot', stage: 'decoded' }),
    ).toBe(800);
    expect(next.value('squeezegate_camera_tracks_open', { device: 'edge-1', camera: 'lot' })).toBe(1);
    expect(next.samples('squeezegate_camera_frames_total').map((s) => s.labels.camera)).not.toContain('desk');

    monitor.reportStats('edge-1', totals);
    const none = await scrape();
    for (const name of [
      'squeezegate_camera_frames_total',
      'squeezegate_camera_restarts_total',
      'squeezegate_camera_gap_seconds_total',
      'squeezegate_camera_tracks_open',
      'squeezegate_camera_info',
    ]) {
      expect(none.samples(name), name).toEqual([]);
    }
  });

  it('has no camera series for a fleet of older agents', async () => {
    const { monitor, scrape } = setup();
    monitor.reportStats('edge-1', totals);
    const m = await scrape();
    expect(m.samples('squeezegate_camera_frames_total')).toEqual([]);
    expect(m.value('squeezegate_edge_frames', { device: 'edge-1' })).toBe(50);
  });
});
