/**
 * "Operators can see what left" (issue 15): squeezegate-gateway and squeezegate-edge as their
 * own processes. What the gateway's "what left" routes hold must be exactly what the agent says
 * it sent in its payload dump: the same bytes, device, frame, reason and redactions.
 */
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DumpEntry, type FrameRecord, readDumpIndex } from '@squeezegate/edge';
import type { PreviewEntry } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';
import { runNode, userEnv } from '../support/cli.ts';
import {
  datasetDir,
  detectionDatasetDir,
  haveDetectionModels,
  haveRealModels,
  repoRoot,
} from '../support/env.ts';
import { type GatewayProcess, startGateway } from '../system/chaos-support.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');
const ADMIN = 'what-left-admin-token-0123456789';
const DEVICE = 'cam-what';
const TOKEN = 'what-left-device-token';
/** A square in the middle of every frame: the crops cross it, so each payload has a mask to show. */
const MASK = '0.4,0.4 0.6,0.4 0.6,0.6 0.4,0.6';

interface Listing {
  payloads: PreviewEntry[];
  held: number;
  received: number;
}

/** A gateway process with the given flags; stopped with SIGTERM by `stop`. */
async function gateway(flags: string[]) {
  const gw: GatewayProcess = await startGateway([
    '--admin-token',
    ADMIN,
    '--device',
    `${DEVICE}:${TOKEN}`,
    ...flags,
  ]);
  // Its log is not read past "listening": keep the pipe flowing.
  gw.child.stdout!.resume();
  const url = `http://127.0.0.1:${gw.port}`;
  return {
    url,
    edgeUrl: `ws://127.0.0.1:${gw.port}/v1/edge`,
    get: (route: string, token: string | null = ADMIN) =>
      fetch(`${url}/dashboard/${route}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    async stop() {
      if (gw.child.exitCode !== null) return;
      const exited = once(gw.child, 'exit');
      gw.child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs squeezegate-edge to the end of its source; its frame records and its payload dump. */
async function agent(edgeUrl: string, args: string[]) {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-what-left-'));
  const out = path.join(dir, 'out.jsonl');
  const dump = path.join(dir, 'dump');
  const { code, stderr } = await runNode(
    [
      EDGE,
      ...['--gateway', edgeUrl, '--device-id', DEVICE, '--token', TOKEN],
      ...['--faces', 'off', '--mask', MASK, '--payload-dump', dump, '--out', out],
      // Longer than any answer takes: every payload sent is answered before the agent ends.
      ...['--deadline-ms', '60000', '--log-level', 'warn'],
      ...args,
    ],
    userEnv(),
  );
  expect(code, stderr).toBe(0);
  const records = (await readFile(out, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FrameRecord);
  return { records, dump, entries: await readDumpIndex(dump) };
}

/** The summary the wire carries, out of the dump's fuller redaction record. */
const wireRedactions = ({ faces, faceMode, masks, metadata }: DumpEntry['redactions']) => ({
  faces,
  faceMode,
  masks,
  metadata,
});

/** Every dumped payload is held once, with the same bytes, device, frame, reason and redactions. */
async function expectHeldAsDumped(
  gw: Awaited<ReturnType<typeof gateway>>,
  dump: string,
  entries: DumpEntry[],
) {
  const res = await gw.get('payloads');
  expect(res.status).toBe(200);
  const listing = (await res.json()) as Listing;
  const byFrame = new Map(listing.payloads.map((p) => [p.frameId, p]));
  for (const e of entries) {
    // As the agent encoded it: classify payloads in its default codec (WebP), detect crops JPEG.
    const mime = e.file.endsWith('.webp') ? 'image/webp' : 'image/jpeg';
    const held = byFrame.get(e.payloadId);
    expect(held, `${e.payloadId} is held`).toBeDefined();
    expect(held).toMatchObject({
      deviceId: DEVICE,
      bytes: e.bytes,
      mime,
      reason: e.reason,
      redactions: wireRedactions(e.redactions),
    });
    const image = await gw.get(`payloads/${held!.n}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe(mime);
    const sent = await readFile(path.join(dump, e.file));
    expect(Buffer.from(await image.arrayBuffer()).equals(sent), `${e.file} byte for byte`).toBe(true);
  }
  return listing;
}

describe.skipIf(!haveRealModels)('what left: a real agent, a real gateway', () => {
  it('holds every payload the agent sent, byte for byte, behind the admin token', async () => {
    const gw = await gateway(['--payload-preview-size', '100']);
    try {
      const { records, dump, entries } = await agent(gw.edgeUrl, [
        ...['--source', datasetDir, '--limit', '16'],
        ...['--policy', 'threshold', '--threshold', '0.9'],
      ]);
      const offloaded = records.filter((r) => r.decision.kind === 'offload');
      expect(offloaded.length).toBeGreaterThan(3);
      expect(offloaded.every((r) => r.cloud?.status === 'ok')).toBe(true);
      expect(entries).toHaveLength(offloaded.length);

      for (const route of ['payloads', 'payloads/1']) {
        expect((await gw.get(route, null)).status).toBe(401);
        expect((await gw.get(route, 'not-the-admin-token')).status).toBe(401);
      }
      const listing = await expectHeldAsDumped(gw, dump, entries);
      expect(listing).toMatchObject({ held: offloaded.length, received: offloaded.length });
      // The reasons are the agent's own decisions, and the mask shows in every payload.
      expect(listing.payloads.map((p) => p.reason).sort()).toEqual(
        offloaded.map((r) => r.decision.reason).sort(),
      );
      expect(
        listing.payloads.every((p) => p.redactions?.masks === 1 && p.redactions.faceMode === 'off'),
      ).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it.skipIf(!haveDetectionModels)("holds a detect agent's object crops under their own ids", async () => {
    const gw = await gateway([]);
    try {
      const { dump, entries } = await agent(gw.edgeUrl, [
        ...['--task', 'detect', '--source', path.join(detectionDatasetDir, 'images'), '--limit', '6'],
        ...['--confident', '1', '--uncertain', '0.2'],
      ]);
      expect(entries.length).toBeGreaterThan(2);
      expect(entries.every((e) => e.payloadId.includes('#'))).toBe(true);
      const listing = await expectHeldAsDumped(gw, dump, entries);
      expect(listing.held).toBe(entries.length);
    } finally {
      await gw.stop();
    }
  });

  it('--no-payload-preview: the frames are answered, nothing is kept', async () => {
    const gw = await gateway(['--no-payload-preview']);
    try {
      const { records, entries } = await agent(gw.edgeUrl, [
        ...['--source', datasetDir, '--limit', '6'],
        ...['--policy', 'always'],
      ]);
      expect(entries).toHaveLength(6);
      expect(records.every((r) => r.cloud?.status === 'ok')).toBe(true);
      for (const route of ['payloads', 'payloads/1']) {
        const res = await gw.get(route);
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual({ error: expect.stringContaining('--no-payload-preview') });
      }
      // The rest of the dashboard is as before.
      expect((await gw.get('snapshot')).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
