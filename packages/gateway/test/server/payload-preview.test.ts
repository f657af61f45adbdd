import { GATEWAY_HELP, gatewayConfigFromCli, type PreviewEntry } from '@squeezegate/gateway';
import { encodeFrame, type FrameHeader } from '@squeezegate/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, device, frame, jpeg, startGateway } from './harness.ts';

const auth = { authorization: `Bearer ${ADMIN}` };

describe('what left: the gateway keeps the last payloads as received, behind the admin token', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(() => stop?.());
  const start = async (settings: Record<string, unknown> = {}) => {
    const started = await startGateway({ adminToken: ADMIN, ...settings });
    stop = () => started.gateway.close();
    return started.gateway;
  };
  const list = async (url: string) => {
    const res = await fetch(`${url}/dashboard/payloads`, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as { payloads: PreviewEntry[]; held: number; received: number };
  };

  it('lists each new frame with its reason and redactions, and serves its exact bytes', async () => {
    const gateway = await start();
    const [a, b] = [await jpeg(10), await jpeg(200)];
    const header: FrameHeader = {
      type: 'frame',
      frameId: 'f-1',
      seq: 7,
      view: 'crop',
      mime: 'image/jpeg',
      local: { index: 1, label: 'goldfish', p: 0.41 },
      reason: 'maxProb 0.41 < 0.6',
      redactions: { faces: 1, faceMode: 'pixelate', masks: 0, metadata: 'stripped' },
    };
    const edge = await device(gateway.edgeUrl);
    edge.ws.send(encodeFrame(header, a));
    // An agent from before the reason and redactions: accepted, answered, listed without them.
    edge.ws.send(frame('f-2', b));
    // The same frame again (a resend after a reconnect): answered once, listed once.
    edge.ws.send(encodeFrame(header, a));
    const answers = (await edge.received(4)).slice(1);
    // The repeat waits for the first one's answer: the order of the answers is not the point.
    expect(answers.map((m) => `${m.type} ${m.frameId}`).sort()).toEqual([
      'result f-1',
      'result f-1',
      'result f-2',
    ]);
    edge.ws.close();

    expect((await fetch(`${gateway.url}/dashboard/payloads`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/dashboard/payloads/1`)).status).toBe(401);
    const body = await list(gateway.url);
    expect(body).toMatchObject({ held: 2, received: 2 });
    expect(body.payloads.map((p) => p.frameId)).toEqual(['f-2', 'f-1']);
    expect(body.payloads[1]).toMatchObject({
      n: 1,
      deviceId: 'cam-1',
      seq: 7,
      bytes: a.length,
      reason: header.reason,
      redactions: header.redactions,
      local: header.local,
    });
    expect(body.payloads[0]).toMatchObject({ n: 2, reason: null, redactions: null, local: null });

    for (const [n, image] of [
      [1, a],
      [2, b],
    ] as const) {
      const res = await fetch(`${gateway.url}/dashboard/payloads/${n}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect(res.headers.get('content-security-policy')).toContain('sandbox');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);
    }
    const gone = await fetch(`${gateway.url}/dashboard/payloads/3`, { headers: auth });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: expect.stringContaining('not held') });
    const bad = await fetch(`${gateway.url}/dashboard/payloads/..%2Fsnapshot`, { headers: auth });
    expect(bad.status).toBe(400);
  });

  it('keeps only as many as configured', async () => {
    const gateway = await start({ payloadPreview: { size: 2 } });
    const edge = await device(gateway.edgeUrl);
    for (let i = 1; i <= 4; i++) edge.ws.send(frame(`f-${i}`, await jpeg(i * 20)));
    await edge.received(5);
    edge.ws.close();
    const body = await list(gateway.url);
    expect(body.payloads.map((p) => p.frameId)).toEqual(['f-4', 'f-3']);
    expect(body).toMatchObject({ held: 2, received: 4 });
  });

  it('is off with payloadPreview.enabled false (--no-payload-preview): 404, nothing kept', async () => {
    const gateway = await start({ payloadPreview: { enabled: false } });
    const edge = await device(gateway.edgeUrl);
    edge.ws.send(frame('f-1', await jpeg(30)));
    expect((await edge.received(2))[1]).toMatchObject({ type: 'result', frameId: 'f-1' });
    edge.ws.close();
    for (const route of ['payloads', 'payloads/1']) {
      const res = await fetch(`${gateway.url}/dashboard/${route}`, { headers: auth });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: expect.stringContaining('--no-payload-preview') });
    }
    // Still behind the token: a stranger learns nothing, not even that it is off.
    expect((await fetch(`${gateway.url}/dashboard/payloads`)).status).toBe(401);
  });

  it('keeps nothing without an admin token to guard it: 403', async () => {
    const started = await startGateway({});
    stop = () => started.gateway.close();
    const { gateway } = started;
    const edge = await device(gateway.edgeUrl);
    edge.ws.send(frame('f-1', await jpeg(30)));
    await edge.received(2);
    edge.ws.close();
    const res = await fetch(`${gateway.url}/dashboard/payloads/1`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringContaining('--admin-token') });
    // The rest of the dashboard stays open as before.
    expect((await fetch(`${gateway.url}/dashboard/snapshot`)).status).toBe(200);
  });
});

describe('the payload preview on the command line', () => {
  const env = { SQUEEZEGATE_MODELS_DIR: '/models' };
  const preview = async (argv: string[]) => {
    const parsed = await gatewayConfigFromCli(argv, env);
    if (parsed.ok !== true) throw new Error(JSON.stringify(parsed));
    return parsed.config.payloadPreview;
  };

  it('is on by default, 50 payloads and 16 MiB at most', async () => {
    expect(await preview([])).toEqual({ enabled: true, size: 50, maxBytes: 16 * 1024 * 1024 });
  });

  it('--no-payload-preview turns it off, --payload-preview-size sets its count', async () => {
    expect(await preview(['--no-payload-preview'])).toMatchObject({ enabled: false, size: 50 });
    expect(await preview(['--payload-preview-size', '200'])).toMatchObject({ enabled: true, size: 200 });
    expect(GATEWAY_HELP).toContain('--no-payload-preview');
    expect(GATEWAY_HELP).toContain('--payload-preview-size <n>');
  });

  it('names a bad size', async () => {
    for (const size of ['0', 'many', '1001']) {
      const parsed = await gatewayConfigFromCli(['--payload-preview-size', size], env);
      expect(parsed.ok).toBe(false);
      if (parsed.ok === false) expect(parsed.issues.join('\n')).toContain('payloadPreview.size');
    }
  });
});
