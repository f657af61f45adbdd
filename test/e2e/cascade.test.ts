import { readFile } from 'node:fs/promises';
import { createEdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import {
  type Classifier,
  createOnnxClassifier,
  EdgeConfigSchema,
  GatewayConfigSchema,
  loadLabels,
  PayloadSchema,
  resolveModel,
  shapePayload,
  toModelView,
  topK,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, testLogger } from '../support/env.ts';

const FRAMES = 36;
const TOKEN = 'e2e-token-0123456789';

describe.skipIf(!haveRealModels)('cascade over loopback (real gateway, real agent, real socket)', () => {
  let gateway: Gateway;
  let cloudCheck: Classifier;
  let records: FrameRecord[];
  let link: { messageBytes: number; wireBytes: number; framesSent: number; reportBytes: number };
  let runMs: number;

  beforeAll(async () => {
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({ port: 0, modelsDir, devices: [{ id: 'cam-e2e', token: TOKEN }] }),
      logger: testLogger,
    });
    cloudCheck = await createOnnxClassifier(await resolveModel('mobilenetv2-12-int8', modelsDir));
    records = [];
    const started = performance.now();
    const runtime = await createEdgeRuntime({
      config: EdgeConfigSchema.parse({
        deviceId: 'cam-e2e',
        token: TOKEN,
        gatewayUrl: gateway.edgeUrl,
        modelsDir,
        // A high threshold so that most frames go to the cloud.
        policy: { kind: 'threshold', measure: 'maxProb', threshold: 0.9 },
        // Longer than any answer takes: every offloaded frame gets the cloud's label.
        deadlineMs: 60_000,
        source: { dir: datasetDir, limit: FRAMES },
      }),
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    await runtime.run();
    runMs = performance.now() - started;
    link = runtime.link!.stats();
    expect(runtime.link!.state).toBe('open');
    await runtime.close();
  });
  afterAll(async () => {
    await cloudCheck?.close();
    await gateway?.close();
  });

  it('gives every frame exactly one final result', () => {
    expect(records).toHaveLength(FRAMES);
    expect(new Set(records.map((r) => r.frameId)).size).toBe(FRAMES);
    expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual([...Array(FRAMES).keys()]);
    for (const r of records) {
      expect(r.error).toBeNull();
      expect(r.final).not.toBeNull();
      expect(r.truth).toBe(r.seq); // the sample's files sort in class order
    }
  });

  it('offloads the unsure frames and keeps the cloud label for them', async () => {
    const offloaded = records.filter((r) => r.decision.kind === 'offload');
    const local = records.filter((r) => r.decision.kind === 'local');
    expect(offloaded.length).toBeGreaterThan(5);
    expect(local.length).toBeGreaterThan(0);
    for (const r of local) {
      expect(r.local!.confidence.maxProb).toBeGreaterThanOrEqual(0.9);
      expect(r.final).toMatchObject({ index: r.local!.index, source: 'local' });
      expect(r.bytesSent).toBe(0);
    }
    const labels = await loadLabels(modelsDir);
    for (const r of offloaded) {
      expect(r.local!.confidence.maxProb).toBeLessThan(0.9);
      expect(r.cloud?.status).toBe('ok');
      if (r.cloud?.status !== 'ok') continue;
      expect(r.final).toMatchObject({ index: r.cloud.index, label: r.cloud.label, source: 'cloud' });
      expect(r.cloud.label).toBe(labels[r.cloud.index]);
      // The gateway's answer is what the cloud model says about the crop the edge sent (a crop
      // with a blurred face is not the plain crop: privacy.test.ts covers those).
      if (r.redactions?.faces) continue;
      const captured = await readFile(`${datasetDir}/${r.file}`);
      const crop = await toModelView(captured, { preprocess: cloudCheck.spec.preprocess });
      // The default payload: the crop, encoded as the agent encodes it (WebP q80).
      const shaped = await shapePayload({ captured, view: crop, shortSide: 256 }, PayloadSchema.parse({}));
      expect(shaped.mime).toBe('image/webp');
      const sent = await toModelView(shaped.bytes, {
        preprocess: cloudCheck.spec.preprocess,
        view: 'crop',
      });
      const [expected] = await cloudCheck.classify([sent]);
      expect(topK(expected!.probs, 1)[0]!.index).toBe(r.cloud.index);
    }
  });

  it('adds the bytes up on both ends of the socket', () => {
    const frameBytes = records.reduce((s, r) => s + r.bytesSent, 0);
    const offloaded = records.filter((r) => r.decision.kind === 'offload').length;
    expect(link.framesSent).toBe(offloaded);
    const hello = link.messageBytes - frameBytes - link.reportBytes;
    expect(hello).toBeGreaterThan(40); // the hello JSON
    expect(hello).toBeLessThan(300);
    const counters = gateway.counters();
    expect(counters.bytesIn).toBe(link.messageBytes);
    expect(counters.framesIn).toBe(offloaded);
    // On the wire: the HTTP upgrade plus a 6–14 byte frame header per message: the hello, the
    // frames, the reports (one a second while frames come, each over 60 bytes), and the
    // heartbeats' pings and pongs (6 bytes each, one each way per 15 s the run lasted).
    const reports = Math.floor(link.reportBytes / 60);
    const heartbeats = 2 * Math.ceil(runMs / 15_000);
    expect(link.wireBytes).toBeGreaterThan(link.messageBytes);
    expect(link.wireBytes - link.messageBytes).toBeLessThan(
      600 + 14 * (offloaded + 1 + reports) + 6 * heartbeats,
    );
    // What left is the re-encoded model-sized crop, much smaller than the captured files.
    const captured = records
      .filter((r) => r.decision.kind === 'offload')
      .reduce((s, r) => s + r.capturedBytes, 0);
    expect(frameBytes).toBeLessThan(captured);
  });
});
