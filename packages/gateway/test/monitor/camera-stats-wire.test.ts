// Camera stats over the edge socket of a real gateway (fake model): what an agent reports shows in
// the fleet snapshot and on /metrics, and a report that breaks the protocol closes the socket.
import type { Gateway } from '@squeezegate/gateway';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN, device, startGateway } from '../server/harness.ts';

const camera = {
  id: 'gate-north',
  source: 'rtsp',
  decoded: 1200,
  analysed: 240,
  inferred: 61,
  reused: 170,
  dropped: 9,
  restarts: 3,
  gapMs: 4500,
  tracksOpen: 2,
  events: [
    { type: 'new', label: 'truck', trackId: 'gate-north-5', at: 1_700_000_001_000 },
    { type: 'scene', label: 'barrier', trackId: null, at: 1_700_000_002_000 },
  ],
};
const stats = { type: 'stats', frames: 240, offloaded: 12, capturedBytes: 2_400_000, sentBytes: 96_000 };

let gateway: Gateway | null = null;
afterEach(async () => {
  await gateway?.close();
  gateway = null;
});

describe('camera stats over the wire', () => {
  it('reach the fleet snapshot and /metrics with their values', async () => {
    ({ gateway } = await startGateway({ adminToken: ADMIN }));
    const edge = await device(gateway.edgeUrl, 'cam-1');
    expect(edge.messages[0]?.type).toBe('welcome');
    edge.ws.send(JSON.stringify({ ...stats, cameras: [camera] }));

    const g = gateway;
    await vi.waitFor(() => expect(g.monitor.snapshot().devices[0]?.cameras).toEqual([camera]));
    const res = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const text = await res.text();
    const labels = 'device="cam-1",camera="gate-north"';
    expect(text).toContain(`squeezegate_camera_frames_total{${labels},stage="decoded"} 1200\n`);
    expect(text).toContain(`squeezegate_camera_frames_total{${labels},stage="reused"} 170\n`);
    expect(text).toContain(`squeezegate_camera_frames_total{${labels},stage="dropped"} 9\n`);
    expect(text).toContain(`squeezegate_camera_restarts_total{${labels}} 3\n`);
    expect(text).toContain(`squeezegate_camera_gap_seconds_total{${labels}} 4.5\n`);
    expect(text).toContain(`squeezegate_camera_tracks_open{${labels}} 2\n`);
    // The socket stays up: the report was a valid message.
    expect(edge.ws.readyState).toBe(edge.ws.OPEN);
    edge.ws.close();
  });

  it('accepts a report without cameras from an older agent', async () => {
    ({ gateway } = await startGateway());
    const edge = await device(gateway.edgeUrl, 'cam-2');
    edge.ws.send(JSON.stringify(stats));
    const g = gateway;
    await vi.waitFor(() =>
      expect(g.monitor.snapshot().devices[0]).toMatchObject({ frames: 240, cameras: [] }),
    );
    expect(edge.ws.readyState).toBe(edge.ws.OPEN);
    edge.ws.close();
  });

  it('closes the socket with BAD_MESSAGE on camera stats that break the protocol', async () => {
    ({ gateway } = await startGateway());
    const edge = await device(gateway.edgeUrl, 'cam-1');
    edge.ws.send(JSON.stringify({ ...stats, cameras: [{ ...camera, id: 'gate/north' }] }));
    const [, error] = await edge.received(2);
    expect(error).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    expect(error?.message).toContain('camera id');
    expect((await edge.closed).code).toBe(1008);
    expect(gateway.monitor.snapshot().devices[0]?.cameras).toEqual([]);
  });
});
