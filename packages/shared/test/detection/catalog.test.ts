import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ALL_FILES,
  DEFAULT_DETECTOR_ID,
  DEFAULT_FACE_DETECTOR_ID,
  DEFAULT_FACE_SEARCH_ID,
  DETECTION_FILES,
  DETECTOR_IDS,
  DETECTORS,
  DetectorSpecSchema,
  faceSearchModels,
  fetchModels,
  getDetectorSpec,
  isFaceSearchId,
  loadDetectorLabels,
  verifyFile,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDetectionModels, modelsDir as SHARED_MODELS } from '../../../../test/support/env.ts';

describe('detector catalog', () => {
  it('has valid entries with the agreed ids', () => {
    for (const d of DETECTORS) expect(DetectorSpecSchema.safeParse(d).success, d.id).toBe(true);
    expect(DETECTOR_IDS).toEqual([
      'yolox-nano-416',
      'picodet-s-320',
      'squeezedet-kitti-experimental',
      'ultraface-rfb320',
      'ultraface-rfb640',
      'yunet-s',
    ]);
    expect(DEFAULT_DETECTOR_ID).toBe('yolox-nano-416');
    expect(DEFAULT_FACE_DETECTOR_ID).toBe('ultraface-rfb320');
    expect(DEFAULT_FACE_SEARCH_ID).toBe('yunet-s+ultraface-rfb320');
    expect(DETECTORS.filter((d) => 'experimental' in d && d.experimental).map((d) => d.id)).toEqual([
      'squeezedet-kitti-experimental',
    ]);
    expect(DETECTORS.filter((d) => d.role === 'face').map((d) => d.family)).toEqual([
      'ultraface',
      'ultraface',
      'yunet',
    ]);
  });

  it('keeps every detector and label file under detection/ and in ALL_FILES', () => {
    for (const d of DETECTORS) {
      expect(d.file.startsWith('detection/'), d.id).toBe(true);
      expect(ALL_FILES.map((f) => f.file)).toContain(d.file);
      expect(ALL_FILES.map((f) => f.file)).toContain(d.labels.file);
    }
    expect(new Set(ALL_FILES.map((f) => f.file)).size).toBe(ALL_FILES.length);
    for (const f of Object.values(DETECTION_FILES)) expect(ALL_FILES).toContain(f);
  });

  it('lists URLs only for byte-identical upstream files; the rest say where they came from', () => {
    const withUrls = Object.values(DETECTION_FILES).filter((f) => f.urls.length > 0);
    expect(withUrls.map((f) => f.file)).toEqual([
      'detection/yolox_nano_416_coco.onnx',
      'detection/yunet_s_dynamic.onnx',
    ]);
    for (const f of Object.values(DETECTION_FILES)) {
      if (f.urls.length === 0) expect('origin' in f && f.origin, f.file).toMatch(/--mirror/);
    }
  });

  it('looks detectors up by id', () => {
    expect(getDetectorSpec('picodet-s-320')?.input).toEqual({ name: 'image', width: 320, height: 320 });
    expect(getDetectorSpec('squeezedet-kitti-experimental')?.thresholds).toEqual({
      score: 0.4,
      nms: 0.4,
      maxDetections: 64,
      preNmsTopK: 64,
    });
    expect(getDetectorSpec('yolox')).toBeUndefined();
    // DETECTION.md §5: BGR, raw 0..255, top-left letterbox with 0; any H×W multiple of 32.
    const yunet = getDetectorSpec('yunet-s')!;
    expect(yunet.sha256).toBe('daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3');
    expect(yunet.input.dynamic).toEqual({ multiple: 32, maxSide: 2048 });
    expect(yunet.preprocess).toMatchObject({ channelOrder: 'BGR', mean: [0, 0, 0], std: [1, 1, 1], pad: 0 });
    expect(yunet.thresholds).toEqual({ score: 0.6, nms: 0.3, maxDetections: 5000 });
    expect(yunet.outputs).toHaveLength(12);
  });

  it('names face searches as face models joined by "+"', () => {
    expect(faceSearchModels('yunet-s+ultraface-rfb320')).toEqual(['yunet-s', 'ultraface-rfb320']);
    expect(faceSearchModels('ultraface-rfb640')).toEqual(['ultraface-rfb640']);
    expect(isFaceSearchId('yunet-s+ultraface-rfb320')).toBe(true);
    expect(isFaceSearchId('ultraface-rfb640')).toBe(true);
    expect(isFaceSearchId('yunet-s+yunet-s')).toBe(false);
    expect(isFaceSearchId('yunet-s+yolox-nano-416')).toBe(false);
    expect(isFaceSearchId('')).toBe(false);
  });

  it.skipIf(!haveDetectionModels).each(DETECTORS.map((d) => [d.id, d] as const))(
    'matches the shared copy of %s and its labels',
    async (_, spec) => {
      await expect(verifyFile(spec, SHARED_MODELS)).resolves.toBe(path.join(SHARED_MODELS, spec.file));
      const labels = await loadDetectorLabels(spec, SHARED_MODELS);
      expect(labels).toHaveLength(spec.classes);
      expect(Object.isFrozen(labels)).toBe(true);
      if (spec.family === 'ultraface' || spec.family === 'yunet') expect(labels).toEqual(['face']);
      if (spec.family === 'squeezedet') expect(labels).toEqual(['car', 'pedestrian', 'cyclist']);
      if (spec.classes === 80)
        expect([labels[0], labels[2], labels[79]]).toEqual(['person', 'car', 'toothbrush']);
    },
  );
});

describe('fetching files that live in a subfolder', () => {
  const body = Buffer.from('background\nface\n');
  const spec = {
    file: 'detection/labels.txt',
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    urls: [],
  };
  let server: Server;
  let base: string;
  const requests: string[] = [];
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/mirror/detection/labels.txt') res.end(body);
      else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'sqz-detfetch-'));
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks the mirror for the same subfolder and writes into it', async () => {
    const [outcome] = await fetchModels({ modelsDir: dir, files: [spec], mirror: `${base}/mirror` });
    expect(outcome).toEqual({
      file: 'detection/labels.txt',
      status: 'downloaded',
      url: `${base}/mirror/detection/labels.txt`,
      bytes: body.length,
    });
    expect(requests).toEqual(['/mirror/detection/labels.txt']);
    expect(await readFile(path.join(dir, 'detection', 'labels.txt'))).toEqual(body);
  });
});
