import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createEdgeRuntime, createGatewayLink, type EdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import { EdgeConfigSchema, GatewayConfigSchema, type Stats } from '@squeezegate/shared';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const FRAMES = 20;
const DEVICE = 'cam-dash';
const DEVICE_TOKEN = 'dash-device-token-0123';
const ADMIN_TOKEN = 'dash-admin-token-0123456789';
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(repoRoot, 'test/artifacts/dashboard.png');
/** How long the page may take to show a state: a generous deadline for a busy machine, not a measure. */
const UI_WAIT = { timeout: 30_000 };

// Debian's Chromium; .ci/run installs it. A machine without it skips, CI without it goes red.
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`the dashboard test needs Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

/** What the test reads of an <img> (the test files are compiled without the DOM library). */
type Img = { complete: boolean; naturalWidth: number; naturalHeight: number };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

type CameraStats = NonNullable<Stats['cameras']>[number];
const T = Date.UTC(2024, 4, 1, 12, 0, 0);
/** What a camera agent reports: two cameras, one with a label that must show as text. */
const CAMERAS: CameraStats[] = [
  {
    id: 'lot-east',
    source: 'rtsp',
    decoded: 12_345,
    analysed: 2469,
    inferred: 611,
    reused: 1801,
    dropped: 57,
    restarts: 2,
    gapMs: 4250,
    tracksOpen: 3,
    events: [
      { type: 'new', label: 'car', trackId: 'lot-east-41', at: T },
      { type: 'end', label: 'person', trackId: 'lot-east-38', at: T + 2000 },
    ],
  },
  {
    id: 'desk',
    source: 'file',
    decoded: 900,
    analysed: 180,
    inferred: 40,
    reused: 140,
    dropped: 0,
    restarts: 0,
    gapMs: 0,
    tracksOpen: 0,
    events: [{ type: 'scene', label: '<img src=x onerror="window.__cam=1">', trackId: null, at: T + 1000 }],
  },
];

describe.skipIf(!haveRealModels || !haveChromium)('operator dashboard in a real browser', () => {
  let gateway: Gateway;
  let runtime: EdgeRuntime;
  let browser: Browser;
  let page: Page;
  const records: FrameRecord[] = [];
  const pageErrors: string[] = [];
  const cell = (testid: string) =>
    page.locator(`[data-testid="device-row"][data-device-id="${DEVICE}"] [data-testid="${testid}"]`);

  beforeAll(async () => {
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        adminToken: ADMIN_TOKEN,
        devices: [{ id: DEVICE, token: DEVICE_TOKEN }],
      }),
      logger: testLogger,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // The machine has no internet: without the background-networking flags Chromium keeps
      // trying Google's hosts.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    // The page is open before the agent starts, so everything after this arrives over /events.
    const res = await page.goto(`${gateway.url}/dashboard/?token=${ADMIN_TOKEN}`);
    expect(res?.status()).toBe(200);
    await vi.waitFor(
      async () => expect(await page.getByTestId('conn-state').textContent()).toBe('live'),
      UI_WAIT,
    );

    runtime = await createEdgeRuntime({
      config: EdgeConfigSchema.parse({
        deviceId: DEVICE,
        token: DEVICE_TOKEN,
        gatewayUrl: gateway.edgeUrl,
        modelsDir,
        // A high threshold so that most frames go to the cloud.
        policy: { kind: 'threshold', measure: 'maxProb', threshold: 0.9 },
        // Longer than any answer takes: every offloaded frame shows the cloud's label.
        deadlineMs: 60_000,
        source: { dir: datasetDir, limit: FRAMES },
      }),
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    await runtime.run();
  });
  afterAll(async () => {
    await runtime?.close();
    await browser?.close();
    await gateway?.close();
  });

  it('shows the device with the totals the agent reported', async () => {
    expect(records).toHaveLength(FRAMES);
    const offloaded = records.filter((r) => r.decision.kind === 'offload').length;
    expect(offloaded).toBeGreaterThan(5);
    const captured = records.reduce((s, r) => s + r.capturedBytes, 0);
    const sent = records.reduce((s, r) => s + r.bytesSent, 0);

    await expect.poll(() => cell('device-frames').textContent(), UI_WAIT).toBe(String(FRAMES));
    expect(await page.getByTestId('device-row').count()).toBe(1);
    expect(await cell('device-id').textContent()).toBe(DEVICE);
    expect(await cell('device-state').textContent()).toContain('connected');
    expect(await cell('device-offloaded').textContent()).toBe(String(offloaded));
    expect(await cell('device-offload-rate').textContent()).toBe(pct(offloaded / FRAMES));
    expect(await cell('device-bytes-saved-pct').textContent()).toBe(pct((captured - sent) / captured));
    expect(await cell('device-answered').textContent()).toBe(String(offloaded));
    expect(await cell('device-latency').textContent()).toMatch(/^\d+(\.\d)? \/ \d+(\.\d)?$/);
    expect(await page.getByTestId('tile-frames').textContent()).toBe(String(FRAMES));
    expect(await page.getByTestId('last-update').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("lists the offloaded frames with the edge's and the cloud's labels", async () => {
    const offloaded = records.filter((r) => r.decision.kind === 'offload');
    await expect.poll(() => page.getByTestId('decision-row').count(), UI_WAIT).toBe(offloaded.length);
    const rows = await page.getByTestId('decision-row').evaluateAll((trs) =>
      trs.map((tr) => {
        const text = (id: string) => tr.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
        const label = (id: string) => tr.querySelector(`[data-testid="${id}"] span`)?.textContent ?? null;
        return {
          device: text('decision-device'),
          frameId: text('decision-frame'),
          local: label('decision-local'),
          cloud: label('decision-cloud'),
          status: text('decision-status'),
        };
      }),
    );
    const expected = offloaded.map((r) => ({
      device: DEVICE,
      frameId: r.frameId,
      local: r.local!.label,
      cloud: r.cloud?.status === 'ok' ? r.cloud.label : null,
      status: 'ok',
    }));
    const byFrame = (a: { frameId: string | null }, b: { frameId: string | null }) =>
      (a.frameId ?? '').localeCompare(b.frameId ?? '');
    expect(rows.sort(byFrame)).toEqual(expected.sort(byFrame));
    expect(expected.every((e) => e.cloud !== null)).toBe(true);

    // Let the charts gather a few seconds before the picture.
    await page.waitForTimeout(1500);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await expect.poll(() => page.locator('[data-testid="chart-offload"] path').count(), UI_WAIT).toBe(1);
  });

  it('shows what left: each payload from its exact bytes, with device, frame, reason and redactions', async () => {
    const offloaded = records.filter((r) => r.decision.kind === 'offload');
    await expect.poll(() => page.getByTestId('payload-card').count(), UI_WAIT).toBe(offloaded.length);
    const images = page.getByTestId('payload-img');
    await expect
      .poll(() => images.evaluateAll((imgs) => imgs.every((i) => (i as unknown as Img).complete)), UI_WAIT)
      .toBe(true);
    const cards = await page.getByTestId('payload-card').evaluateAll((figs) =>
      figs.map((f) => {
        const text = (id: string) => f.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
        const img = f.querySelector('img') as unknown as Img | null;
        return {
          device: text('payload-device'),
          frameId: text('payload-frame'),
          reason: text('payload-reason'),
          redactions: text('payload-redactions'),
          // Decoded by the browser from the bytes route: the crop is the classifier's 224 × 224 view.
          size: img ? [img.naturalWidth, img.naturalHeight] : null,
        };
      }),
    );
    const expected = offloaded.map((r) => ({
      device: DEVICE,
      frameId: r.frameId,
      reason: r.decision.reason,
      redactions: `faces ${r.redactions!.faces} (${r.redactions!.faceMode}) · masks ${r.redactions!.masks} · metadata ${r.redactions!.metadata}`,
      size: [224, 224],
    }));
    const byFrame = (a: { frameId: string | null }, b: { frameId: string | null }) =>
      (a.frameId ?? '').localeCompare(b.frameId ?? '');
    expect(cards.sort(byFrame)).toEqual(expected.sort(byFrame));
    expect(await page.getByTestId('payloads-note').textContent()).toMatch(
      new RegExp(
        `^${offloaded.length} held \\(.+\\), at most 50 or 16\\.0 MiB; ${offloaded.length} received`,
      ),
    );
    await page.getByTestId('payloads').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(repoRoot, 'test/artifacts/dashboard-what-left.png') });
  });

  it('shows the device disconnected when the agent leaves', async () => {
    await runtime.close();
    await expect.poll(() => cell('device-state').textContent(), UI_WAIT).toContain('disconnected');
    expect(await page.getByTestId('tile-devices').textContent()).toBe('0 / 1');
    expect(pageErrors).toEqual([]);
  });

  it('shows labels from the network as text, never as markup', async () => {
    const label = '<img src=x onerror="window.__injected=1">';
    gateway.monitor.frameAnswered({
      deviceId: DEVICE,
      frameId: 'cam-dash:evil',
      local: { index: 0, label, p: 0.5 },
      cloud: { index: 0, label: '<b>bold</b>', p: 0.5 },
      status: '<i>x</i>',
      latencyMs: 1,
    });
    const row = page.getByTestId('decision-row').filter({ hasText: 'cam-dash:evil' });
    await expect.poll(() => row.count(), UI_WAIT).toBe(1);
    expect(await row.getByTestId('decision-local').locator('span').first().textContent()).toBe(label);
    expect(await row.getByTestId('decision-cloud').locator('span').first().textContent()).toBe('<b>bold</b>');
    expect(await row.getByTestId('decision-status').textContent()).toBe('<i>x</i>');
    expect(await row.locator('img, b, i').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __injected?: number }).__injected)).toBeUndefined();
  });

  it('refuses the page without the admin token', async () => {
    const other = await browser.newPage();
    try {
      for (const query of ['', '?token=wrong-token']) {
        const res = await other.goto(`${gateway.url}/dashboard/${query}`);
        expect(res?.status()).toBe(401);
        expect(await res?.json()).toMatchObject({ error: expect.any(String) });
      }
      // Without the trailing slash the page still finds its events next to it.
      await other.goto(`${gateway.url}/dashboard?token=${ADMIN_TOKEN}`);
      await vi.waitFor(
        async () => expect(await other.getByTestId('conn-state').textContent()).toBe('live'),
        UI_WAIT,
      );
      expect(await other.getByTestId('tile-frames').textContent()).toBe(String(FRAMES));
    } finally {
      await other.close();
    }
  });
  it('shows each camera of a camera agent with its counts and latest events', async () => {
    expect(await page.getByTestId('camera-row').count()).toBe(0);
    const link = await createGatewayLink({
      url: gateway.edgeUrl,
      deviceId: DEVICE,
      token: DEVICE_TOKEN,
      logger: testLogger,
    });
    try {
      expect(link.state).toBe('open');
      link.report({ frames: 2649, offloaded: 30, capturedBytes: 1000, sentBytes: 100, cameras: CAMERAS });
      const camera = (id: string) => page.locator(`[data-testid="camera-row"][data-camera-id="${id}"]`);
      await expect.poll(() => page.getByTestId('camera-row').count(), UI_WAIT).toBe(2);
      const read = (id: string) =>
        camera(id).evaluate((tr) => {
          const text = (t: string) => tr.querySelector(`[data-testid="${t}"]`)?.textContent ?? null;
          return {
            device: tr.getAttribute('data-device-id'),
            camera: text('camera-id'),
            source: text('camera-source'),
            decoded: text('camera-decoded'),
            analysed: text('camera-analysed'),
            inferred: text('camera-inferred'),
            reused: text('camera-reused'),
            dropped: text('camera-dropped'),
            restarts: text('camera-restarts'),
            gap: text('camera-gap'),
            tracks: text('camera-tracksOpen'),
            last: text('camera-last-event'),
          };
        });
      expect(await read('lot-east')).toEqual({
        device: DEVICE,
        camera: 'lot-east',
        source: 'rtsp',
        decoded: '12,345',
        analysed: '2,469',
        inferred: '611',
        reused: '1,801',
        dropped: '57',
        restarts: '2',
        gap: '4.3 s',
        tracks: '3',
        last: 'end person',
      });
      expect(await read('desk')).toMatchObject({ decoded: '900', dropped: '0', restarts: '0', tracks: '0' });
      // Sorted by camera id within the device.
      expect(await page.getByTestId('camera-id').allTextContents()).toEqual(['desk', 'lot-east']);

      // The latest events of all cameras, newest first; labels from the network stay text.
      const events = await page
        .getByTestId('camera-event-row')
        .evaluateAll((trs) =>
          trs.map((tr) =>
            ['camera-event-camera', 'camera-event-type', 'camera-event-label', 'camera-event-track'].map(
              (t) => tr.querySelector(`[data-testid="${t}"]`)?.textContent ?? null,
            ),
          ),
        );
      expect(events).toEqual([
        ['lot-east', 'end', 'person', 'lot-east-38'],
        ['desk', 'scene', CAMERAS[1]!.events[0]!.label, '–'],
        ['lot-east', 'new', 'car', 'lot-east-41'],
      ]);
      expect(await page.locator('[data-testid="camera-events-body"] img').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __cam?: number }).__cam)).toBeUndefined();

      // The same report is on /metrics.
      const metrics = await (
        await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).text();
      const labels = `device="${DEVICE}",camera="lot-east"`;
      expect(metrics).toContain(`squeezegate_camera_frames_total{${labels},stage="dropped"} 57\n`);
      expect(metrics).toContain(`squeezegate_camera_tracks_open{${labels}} 3\n`);

      // Camera stats outside the protocol's bounds leave the report, not the link.
      link.report({
        frames: 2700,
        offloaded: 31,
        capturedBytes: 1000,
        sentBytes: 100,
        cameras: [{ ...CAMERAS[0]!, id: 'lot/east' }],
      });
      await expect.poll(() => cell('device-frames').textContent(), UI_WAIT).toBe('2,700');
      expect(link.state).toBe('open');
      expect(await page.getByTestId('camera-row').count()).toBe(0);
      expect(pageErrors).toEqual([]);
    } finally {
      await link.close();
    }
  });
});
