import { createFleetMonitor } from '@squeezegate/gateway';
import type { Stats } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

type CameraStats = NonNullable<Stats['cameras']>[number];

const T0 = 1_700_000_000_000;
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
  gapMs: 3100,
  tracksOpen: 3,
  events: [
    { type: 'new', label: 'car', trackId: '17', at: T0 - 2000 },
    { type: 'end', label: 'person', trackId: '12', at: T0 - 1000 },
  ],
};
const desk: CameraStats = {
  ...lot,
  id: 'desk',
  source: 'file',
  decoded: 90,
  restarts: 0,
  gapMs: 0,
  tracksOpen: 0,
  events: [{ type: 'scene', label: 'water bottle', trackId: null, at: T0 }],
};

describe('fleet monitor cameras', () => {
  it('starts every device with no cameras', () => {
    const monitor = createFleetMonitor({ now: () => T0 });
    monitor.deviceConnected('edge-1');
    monitor.reportStats('edge-1', totals);
    const [device] = monitor.snapshot().devices;
    expect(device).toMatchObject({ deviceId: 'edge-1', frames: 50, offloaded: 4, cameras: [] });
  });

  it("keeps each device's cameras from its last report, apart from other devices", () => {
    const monitor = createFleetMonitor({ now: () => T0 });
    let changes = 0;
    monitor.subscribe(() => changes++);
    monitor.reportStats('edge-1', { ...totals, cameras: [lot, desk] });
    monitor.reportStats('edge-2', { ...totals, frames: 7, cameras: [{ ...desk, decoded: 7 }] });
    expect(changes).toBe(2);
    const byId = Object.fromEntries(monitor.snapshot().devices.map((d) => [d.deviceId, d]));
    expect(byId['edge-1']?.cameras).toEqual([lot, desk]);
    expect(byId['edge-2']?.cameras).toEqual([{ ...desk, decoded: 7 }]);
    expect(byId['edge-2']?.frames).toBe(7);

    // The next report replaces the list: totals move on, a camera that left is gone.
    monitor.reportStats('edge-1', { ...totals, cameras: [{ ...lot, decoded: 800, tracksOpen: 1 }] });
    const edge1 = monitor.snapshot().devices.find((d) => d.deviceId === 'edge-1');
    expect(edge1?.cameras.map((c) => [c.id, c.decoded, c.tracksOpen])).toEqual([['lot', 800, 1]]);
    expect(changes).toBe(3);
  });

  it('drops the cameras when a report comes without them (an agent that has none now)', () => {
    const monitor = createFleetMonitor({ now: () => T0 });
    monitor.reportStats('edge-1', { ...totals, cameras: [lot] });
    monitor.reportStats('edge-1', { ...totals, frames: 51 });
    expect(monitor.snapshot().devices[0]).toMatchObject({ frames: 51, cameras: [] });
  });

  it('keeps the cameras of a device that disconnected, shown as last reported', () => {
    const monitor = createFleetMonitor({ now: () => T0 });
    monitor.deviceConnected('edge-1');
    monitor.reportStats('edge-1', { ...totals, cameras: [lot] });
    monitor.deviceDisconnected('edge-1');
    expect(monitor.snapshot().devices[0]).toMatchObject({ connected: false, cameras: [lot] });
  });
});
