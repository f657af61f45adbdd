import { createHash } from 'node:crypto';
// Not in the package index yet; import through '@squeezegate/gateway' once it is.
import {
  createDashboardRoutes,
  createFleetMonitor,
  type FleetMonitor,
  type FleetSnapshot,
} from '@squeezegate/gateway';
import type { Stats } from '@squeezegate/shared';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';

const TOKEN = 'admin-token-0123456789';
const T0 = 1_700_000_000_000;

/** A monitor fed by hand, wrapped so the test sees how many listeners are subscribed. */
function fleet() {
  const inner = createFleetMonitor({ now: () => T0 });
  let listeners = 0;
  const monitor: FleetMonitor = {
    ...inner,
    subscribe(listener) {
      listeners++;
      const off = inner.subscribe(listener);
      return () => {
        listeners--;
        off();
      };
    },
  };
  monitor.deviceConnected('cam-1');
  monitor.reportStats('cam-1', {
    type: 'stats',
    frames: 20,
    offloaded: 5,
    capturedBytes: 200_000,
    sentBytes: 40_000,
  });
  monitor.frameAnswered({
    deviceId: 'cam-1',
    frameId: 'cam-1-0001',
    local: { index: 1, label: 'goldfish', p: 0.41 },
    cloud: { index: 1, label: 'goldfish', p: 0.93 },
    status: 'ok',
    latencyMs: 12,
  });
  monitor.frameAnswered({
    deviceId: 'cam-1',
    frameId: 'cam-1-0002',
    local: { index: 2, label: '<b>great white shark</b>', p: 0.3 },
    cloud: null,
    status: 'BUSY',
    latencyMs: 3,
  });
  return { monitor, listeners: () => listeners };
}

function mounted(options: Omit<Parameters<typeof createDashboardRoutes>[0], 'monitor'> = {}) {
  const f = fleet();
  const app = new Hono();
  app.route('/dashboard', createDashboardRoutes({ monitor: f.monitor, ...options }));
  return { app, ...f };
}

interface SseEvent {
  event?: string;
  data?: string;
  comment?: string;
}

/** Reads a text/event-stream body a piece at a time; never loses a chunk to a timeout. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let pending: ReturnType<typeof reader.read> | null = null;
  const events = (): SseEvent[] =>
    text
      .split('\n\n')
      .slice(0, -1)
      .map((block) => {
        const e: SseEvent = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) e.comment = line.slice(1).trim();
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) e.data = line.slice(6);
        }
        return e;
      });
  return {
    events,
    /** Reads until `done(events)` holds or `ms` pass. */
    async readUntil(done: (events: SseEvent[]) => boolean, ms: number): Promise<SseEvent[]> {
      const deadline = Date.now() + ms;
      while (!done(events())) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        pending ??= reader.read();
        const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left));
        const chunk = await Promise.race([pending, timeout]);
        if (chunk === 'timeout') break;
        pending = null;
        if (chunk.done) break;
        text += chunk.value;
      }
      return events();
    },
    cancel: () => reader.cancel(),
  };
}

const snapshots = (events: SseEvent[]) =>
  events.filter((e) => e.event === 'snapshot').map((e) => JSON.parse(e.data!) as FleetSnapshot);

describe('dashboard auth', () => {
  const ROUTES = ['/dashboard', '/dashboard/', '/dashboard/snapshot', '/dashboard/events'];

  it('is open when no admin token is configured', async () => {
    const { app } = mounted();
    expect((await app.request('/dashboard/snapshot')).status).toBe(200);
    expect((await app.request('/dashboard/')).status).toBe(200);
  });

  it('refuses every route without the token, with a JSON 401 and a Bearer challenge', async () => {
    const { app } = mounted({ adminToken: TOKEN });
    for (const route of ROUTES) {
      const res = await app.request(route);
      expect(res.status, route).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="squeezegate"');
      expect(await res.json()).toEqual({
        error: 'this endpoint needs the admin token (Authorization: Bearer, or ?token=)',
      });
    }
  });

  it('accepts the token as a bearer header or as ?token=', async () => {
    const { app } = mounted({ adminToken: TOKEN });
    const bearer = await app.request('/dashboard/snapshot', {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(bearer.status).toBe(200);
    expect(bearer.headers.get('referrer-policy')).toBe('no-referrer');
    expect(bearer.headers.get('cache-control')).toBe('no-store');
    expect((await app.request(`/dashboard/snapshot?token=${TOKEN}`)).status).toBe(200);
    expect((await app.request(`/dashboard/?token=${TOKEN}`)).status).toBe(200);
    expect((await app.request('/dashboard', { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(
      200,
    );
  });

  it('refuses a wrong token however it comes', async () => {
    const { app } = mounted({ adminToken: TOKEN });
    const wrong = [
      app.request('/dashboard/snapshot', { headers: { Authorization: 'Bearer not-the-token' } }),
      app.request('/dashboard/snapshot', { headers: { Authorization: `Bearer ${TOKEN.slice(0, -1)}` } }),
      app.request('/dashboard/snapshot', { headers: { Authorization: `Bearer ${TOKEN}x` } }),
      app.request('/dashboard/snapshot?token=nope'),
      app.request('/dashboard/events?token='),
      app.request(`/dashboard/?token=${TOKEN.toUpperCase()}`),
    ];
    for (const res of await Promise.all(wrong)) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="squeezegate", error="invalid_token"');
      expect(await res.json()).toEqual({ error: 'the admin token is wrong' });
    }
    // Another scheme is no bearer token at all.
    const basic = await app.request('/dashboard/snapshot', { headers: { Authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toMatchObject({ error: expect.stringContaining('needs the admin token') });
  });
});

describe('dashboard snapshot', () => {
  it('returns the fleet as JSON', async () => {
    const { app } = mounted();
    const res = await app.request('/dashboard/snapshot');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      at: T0,
      devices: [
        {
          deviceId: 'cam-1',
          connected: true,
          connectedAt: T0,
          lastSeen: T0,
          frames: 20,
          offloaded: 5,
          offloadRate: 0.25,
          capturedBytes: 200_000,
          sentBytes: 40_000,
          bytesSaved: 160_000,
          answered: 2,
          latencyMs: { p50: 3, p95: 12 },
          cameras: [],
        },
      ],
      recent: [
        {
          at: T0,
          deviceId: 'cam-1',
          frameId: 'cam-1-0002',
          local: { index: 2, label: '<b>great white shark</b>', p: 0.3 },
          cloud: null,
          status: 'BUSY',
          latencyMs: 3,
        },
        {
          at: T0,
          deviceId: 'cam-1',
          frameId: 'cam-1-0001',
          local: { index: 1, label: 'goldfish', p: 0.41 },
          cloud: { index: 1, label: 'goldfish', p: 0.93 },
          status: 'ok',
          latencyMs: 12,
        },
      ],
    });
  });

  it("carries each device's cameras from its last report", async () => {
    const { app, monitor } = mounted();
    const camera: NonNullable<Stats['cameras']>[number] = {
      id: 'lobby',
      source: 'v4l2',
      decoded: 300,
      analysed: 60,
      inferred: 21,
      reused: 37,
      dropped: 2,
      restarts: 1,
      gapMs: 800,
      tracksOpen: 1,
      events: [{ type: 'new', label: 'person', trackId: '3', at: T0 - 500 }],
    };
    monitor.reportStats('cam-1', {
      type: 'stats',
      frames: 60,
      offloaded: 5,
      capturedBytes: 1,
      sentBytes: 0,
      cameras: [camera],
    });
    const snap = (await (await app.request('/dashboard/snapshot')).json()) as FleetSnapshot;
    expect(snap.devices[0]?.frames).toBe(60);
    expect(snap.devices[0]?.cameras).toEqual([camera]);
  });
});

describe('dashboard page', () => {
  it('is one self-contained document with the parts a test reads', async () => {
    const { app } = mounted();
    for (const route of ['/dashboard', '/dashboard/']) {
      const res = await app.request(route);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      for (const id of [
        'conn-state',
        'last-update',
        'devices',
        'devices-body',
        'chart-offload',
        'chart-bytes',
        'decisions',
        'decisions-body',
        'cameras',
        'cameras-body',
        'camera-events',
        'camera-events-body',
      ]) {
        expect(html).toContain(`data-testid="${id}"`);
      }
      // The rows the script builds.
      for (const id of [
        'device-row',
        'device-frames',
        'device-offload-rate',
        'decision-row',
        'decision-cloud',
        'camera-row',
        'camera-device',
        'camera-event-row',
        'camera-event-label',
      ]) {
        expect(html).toContain(`'data-testid': '${id}'`);
      }
      expect(html).toContain("new EventSource(url('events'))");
      // Nothing is fetched from elsewhere.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it('allows exactly its own inline script and style', async () => {
    const { app } = mounted();
    const res = await app.request('/dashboard/');
    const html = await res.text();
    const csp = res.headers.get('content-security-policy')!;
    const digest = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    const script = html.match(/<script>([\s\S]*)<\/script>/)![1]!;
    const style = html.match(/<style>([\s\S]*)<\/style>/)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src ${digest(script)}`);
    expect(csp).toContain(`style-src ${digest(style)}`);
    expect(csp).toContain("connect-src 'self'");
  });

  it('serves only the page at the prefix with a trailing slash', async () => {
    const { app } = mounted();
    expect((await app.request('/dashboard/nope')).status).toBe(404);
    expect((await app.request('/dashboard/nope/')).status).toBe(404);
    expect((await app.request('/dashboard//')).status).toBe(404);
  });
});

describe('dashboard events', () => {
  it('sends the snapshot at connect and unsubscribes when the client goes', async () => {
    const { app, monitor, listeners } = mounted({ adminToken: TOKEN });
    const res = await app.request(`/dashboard/events?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sse = sseReader(res);
    const events = await sse.readUntil((e) => e.length > 0, 2000);
    expect(events[0]?.event).toBe('snapshot');
    expect(JSON.parse(events[0]!.data!)).toEqual(monitor.snapshot());
    expect(listeners()).toBe(1);
    await sse.cancel();
    await vi.waitFor(() => expect(listeners()).toBe(0));
  });

  it('sends one snapshot for a burst of changes, at most one per interval', async () => {
    const { app, monitor } = mounted({ intervalMs: 150 });
    const sse = sseReader(await app.request('/dashboard/events'));
    await sse.readUntil((e) => e.length > 0, 2000);
    for (let frames = 21; frames <= 30; frames++) {
      monitor.reportStats('cam-1', { type: 'stats', frames, offloaded: 5, capturedBytes: 1, sentBytes: 0 });
    }
    const started = performance.now();
    await sse.readUntil((e) => snapshots(e).length >= 2, 2000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    // Nothing more changed, so nothing more comes.
    const all = snapshots(await sse.readUntil(() => false, 400));
    expect(all.map((s) => s.devices[0]!.frames)).toEqual([20, 30]);
    await sse.cancel();
  });

  it('keeps an idle stream open with comments', async () => {
    const { app, listeners } = mounted({ keepAliveMs: 40 });
    const sse = sseReader(await app.request('/dashboard/events'));
    const events = await sse.readUntil((e) => e.filter((x) => x.comment).length >= 2, 2000);
    expect(events.slice(1, 3)).toEqual([{ comment: 'keep-alive' }, { comment: 'keep-alive' }]);
    expect(snapshots(events)).toHaveLength(1);
    await sse.cancel();
    await vi.waitFor(() => expect(listeners()).toBe(0));
  });
});
