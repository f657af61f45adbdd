import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createEdgeRuntime, type FrameRecord } from '@squeezegate/edge';
import { createGateway, type Gateway } from '@squeezegate/gateway';
import { EdgeConfigSchema, GatewayConfigSchema } from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const run = promisify(execFile);
const ADMIN = 'admin-token-for-the-operators';
const TOKEN = 'operator-test-token';

describe.skipIf(!haveRealModels)('operator view: Prometheus metrics, configuration printing', () => {
  let gateway: Gateway;
  const records: FrameRecord[] = [];
  beforeAll(async () => {
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        adminToken: ADMIN,
        devices: [{ id: 'cam-9', token: TOKEN }],
      }),
      logger: testLogger,
    });
    await using runtime = await createEdgeRuntime({
      config: EdgeConfigSchema.parse({
        deviceId: 'cam-9',
        token: TOKEN,
        gatewayUrl: gateway.edgeUrl,
        modelsDir,
        policy: { kind: 'threshold', measure: 'maxProb', threshold: 0.9 },
        // Longer than any answer takes: every offloaded frame is answered before the metrics are read.
        deadlineMs: 60_000,
        source: { dir: datasetDir, limit: 24 },
      }),
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    await runtime.run();
  });
  afterAll(() => gateway?.close());

  it('serves /metrics in Prometheus format behind the admin token', async () => {
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const res = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    const offloaded = records.filter((r) => r.decision.kind === 'offload').length;
    const value = (line: RegExp) => Number(text.match(line)?.[1]);
    expect(value(/^squeezegate_frames_total\{outcome="ok"\} (\d+)$/m)).toBe(offloaded);
    expect(value(/^squeezegate_frame_latency_seconds_count (\d+)$/m)).toBe(offloaded);
    expect(text).toMatch(/^squeezegate_frame_latency_seconds_bucket\{le="0.05"\} \d+$/m);
    expect(text).toMatch(/^# TYPE squeezegate_cloud_confidence histogram$/m);
    expect(value(/^squeezegate_batch_size_sum (\d+)$/m)).toBe(offloaded);
    expect(value(/^squeezegate_bytes_received_total (\d+)$/m)).toBe(gateway.counters().bytesIn);
    expect(text).toMatch(/^squeezegate_queue_depth 0$/m);
    expect(text).toMatch(/^squeezegate_model_load_seconds [0-9.e-]+$/m);
    // The agent's own report: every frame it captured, and its offload ratio.
    expect(value(/^squeezegate_edge_frames\{device="cam-9"\} (\d+)$/m)).toBe(24);
    expect(value(/^squeezegate_offload_ratio\{device="cam-9"\} ([0-9.]+)$/m)).toBeCloseTo(offloaded / 24, 6);
    expect(text).toMatch(/^squeezegate_process_resident_memory_bytes \d+/m);
  });

  it('squeezegate-edge --print-config shows the effective configuration with the token masked', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        path.join(repoRoot, 'packages/edge/dist/main.js'),
        '--print-config',
        '--source',
        datasetDir,
        '--policy',
        'rate',
        '--target',
        '0.2',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, SQUEEZEGATE_TOKEN: 'very-secret-token', SQUEEZEGATE_MODELS_DIR: modelsDir },
      },
    );
    const config = JSON.parse(stdout);
    expect(config.token).toBe('***');
    expect(config.policy).toEqual({
      kind: 'rate',
      target: 0.2,
      measure: 'maxProb',
      temperature: 1,
      burst: 3,
    });
    expect(stdout).not.toContain('very-secret-token');
  });
});
