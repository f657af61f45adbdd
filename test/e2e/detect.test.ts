import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DetectRecord, LedgerEntry } from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { runDetectDemo } from '../../packages/demo/src/run-detect-demo.ts';
import { runNode, userEnv } from '../support/cli.ts';
import {
  detectionDatasetDir,
  haveDetectionModels,
  haveRealModels,
  modelsDir,
  repoRoot,
  testLogger,
} from '../support/env.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');

describe.skipIf(!haveDetectionModels || !haveRealModels)('the detect task end to end', () => {
  it('squeezegate-edge --task detect through a gateway: every frame a result, every payload in the ledger', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-detect-'));
    const out = path.join(dir, 'out.jsonl');
    const ledger = path.join(dir, 'ledger.jsonl');
    await using gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'cam-1', token: 'detect-token-1' }],
      }),
      logger: testLogger,
    });
    const { code, stderr } = await runNode(
      [
        EDGE,
        '--task',
        'detect',
        '--gateway',
        gateway.edgeUrl,
        '--device-id',
        'cam-1',
        '--token',
        'detect-token-1',
        '--source',
        path.join(detectionDatasetDir, 'images'),
        '--privacy-ledger',
        ledger,
        '--out',
        out,
        '--log-level',
        'warn',
        // Longer than any answer takes: every payload sent gets the cloud's verdict.
        '--deadline-ms',
        '60000',
      ],
      userEnv(),
    );
    expect(code, stderr).toBe(0);
    const records: DetectRecord[] = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(28);
    expect(records.every((r) => r.task === 'detect' && r.error === null)).toBe(true);
    const sent = records.flatMap((r) => r.offloads.filter((o) => o.bytes > 0));
    expect(sent.length).toBeGreaterThan(5);
    expect(sent.every((o) => o.cloud.status === 'ok')).toBe(true);
    // Results carry boxes, labels, scores and whose word each rests on.
    const all = records.flatMap((r) => r.detections);
    expect(all.some((d) => d.source === 'cloud' && typeof d.refined === 'string')).toBe(true);
    for (const d of all) {
      expect(d.box).toHaveLength(4);
      expect(d.score).toBeGreaterThan(0);
      expect(['local', 'cloud']).toContain(d.source);
    }
    const entries: LedgerEntry[] = (await readFile(ledger, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => e.payloadId).sort()).toEqual(sent.map((o) => o.payloadId).sort());
    expect(
      entries.every((e) => e.redactions.metadata === 'stripped' && e.redactions.faceMode === 'pixelate'),
    ).toBe(true);
  });

  it('a missing detector or face model is a clear error (exit 3), naming the file and the fix', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'sg-nomodels-'));
    const args = [
      '--token',
      'tok-tok-tok',
      '--source',
      path.join(detectionDatasetDir, 'images'),
      '--models-dir',
      empty,
    ];
    const detect = await runNode([EDGE, '--task', 'detect', ...args], userEnv());
    expect(detect.code).toBe(3);
    expect(detect.stderr).toMatch(/yolox_nano_416_coco\.onnx not found/);
    expect(detect.stderr).toMatch(/models:fetch/);
    // Classification needs the face model too, unless faces are off.
    const copy = await mkdtemp(path.join(tmpdir(), 'sg-classify-models-'));
    for (const f of ['squeezenet1.1.onnx', 'imagenet-simple-labels.json']) {
      await copyFile(path.join(modelsDir, f), path.join(copy, f));
    }
    const classify = await runNode([EDGE, ...args.slice(0, -1), copy], userEnv());
    expect(classify.code).toBe(3);
    // The default face search starts with YuNet.
    expect(classify.stderr).toMatch(/yunet_s_dynamic\.onnx not found/);
    expect(classify.stderr).toMatch(/--faces off/);
  });

  it('the demo: edge-only matches DETECTION.md for YOLOX-Nano, and far fewer bytes than whole frames', async () => {
    const { summary, records } = await runDetectDemo({
      datasetDir: detectionDatasetDir,
      modelsDir,
      edges: 2,
      logger: testLogger,
    });
    expect(records).toHaveLength(28);
    expect(summary).toMatchObject({ frames: 28, failed: 0, detector: 'yolox-nano-416', faces: 'pixelate' });
    // DETECTION.md: YOLOX-Nano at 0.30 on the 11 labelled images, TP 13 / FP 7 / FN 20.
    expect(summary.accuracy?.labelledFrames).toBe(11);
    expect(summary.accuracy?.edge).toMatchObject({ tp: 13, fp: 7, fn: 20 });
    expect(summary.accuracy!.cascade.tp + summary.accuracy!.cascade.fn).toBe(33);
    expect(summary.crops).toBeGreaterThan(0);
    expect(summary.bytesUp).toBeLessThan(summary.bytesWhole * 0.25);
  });
});
