import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Cut,
  createDetectAgent,
  createEdgeAgent,
  createPolicy,
  createPrivacyGuard,
  type DetectRecord,
  type Frame,
  type FrameRecord,
  openFrameSource,
  type PrivacyGuard,
} from '@squeezegate/edge';
import {
  createOnnxClassifier,
  type Detector,
  DetectSchema,
  decodeImage,
  iou,
  loadLabels,
  openDetector,
  PrivacySchema,
  type RawImage,
  resolveModel,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectionDatasetDir,
  haveDetectionModels,
  haveRealModels,
  modelsDir,
  testLogger,
} from '../support/env.ts';
import { fakeLink } from '../support/fake-link.ts';

/** The real guard, remembering what it cut for every payload it rendered. */
function spyOn(guard: PrivacyGuard) {
  const rendered = new Map<string, { image: Frame; cut: Cut; quality: number; cutPixels?: Buffer }>();
  const spy: PrivacyGuard = {
    ...guard,
    active: guard.active,
    record: (entry) => guard.record(entry),
    async render(image, scan, cut, quality, cutPixels) {
      const out = await guard.render(image, scan, cut, quality, cutPixels);
      if (out.kind === 'payload') {
        rendered.set(out.bytes.toString('base64'), {
          image,
          cut,
          quality,
          ...(cutPixels ? { cutPixels } : {}),
        });
      }
      return out;
    },
  };
  return { spy, rendered };
}

/** Fraction of a box's pixels that differ between two renders of the same cut. */
function changed(a: RawImage, b: RawImage, box: readonly number[]): number {
  const [x1, y1, x2, y2] = box.map(Math.round) as [number, number, number, number];
  let n = 0;
  let diff = 0;
  for (let y = Math.max(0, y1); y < Math.min(a.height, y2); y++)
    for (let x = Math.max(0, x1); x < Math.min(a.width, x2); x++) {
      const i = (y * a.width + x) * 3;
      n++;
      const d =
        Math.abs(a.pixels[i]! - b.pixels[i]!) +
        Math.abs(a.pixels[i + 1]! - b.pixels[i + 1]!) +
        Math.abs(a.pixels[i + 2]! - b.pixels[i + 2]!);
      if (d > 24) diff++;
    }
  return n === 0 ? 1 : diff / n;
}

const images = path.join(detectionDatasetDir, 'images');

/** A folder holding the sample images whose names match. */
async function subset(pattern: RegExp): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-privacy-'));
  for (const name of (await readdir(images)).filter((n) => pattern.test(n))) {
    await copyFile(path.join(images, name), path.join(dir, name));
  }
  return dir;
}

/** A folder of frames as the agent's camera. */
const folder = (dir: string) =>
  openFrameSource({ source: dir, scale: { shortSide: 256 }, logger: testLogger });

describe.skipIf(!haveDetectionModels || !haveRealModels)('no face leaves the device unblurred', () => {
  let faces320: Detector;
  let plain: PrivacyGuard;
  beforeAll(async () => {
    faces320 = await openDetector({ id: 'ultraface-rfb320', modelsDir });
    plain = await createPrivacyGuard({ config: PrivacySchema.parse({ faces: 'off' }), faceDetector: null });
  });
  afterAll(() => faces320?.close());

  /**
   * Re-runs the face detector on every payload that left, and on the same cut rendered without
   * redaction. A face seen before (score ≥ 0.7) that is still seen after, where the redaction
   * changed under half its pixels, is an unblurred face.
   */
  async function audit(payloads: readonly Buffer[], rendered: ReturnType<typeof spyOn>['rendered']) {
    let visibleBefore = 0;
    const leaks: string[] = [];
    for (const bytes of payloads) {
      const source = rendered.get(bytes.toString('base64'));
      expect(source, 'every payload that left came through the privacy guard').toBeDefined();
      const reference = await plain.render(
        source!.image,
        { faces: [], scanMs: 0 },
        source!.cut,
        source!.quality,
        source!.cutPixels,
      );
      if (reference.kind !== 'payload') throw new Error('unreachable');
      const [before, after] = await Promise.all([decodeImage(reference.bytes), decodeImage(bytes)]);
      const seenBefore = (await faces320.detect(before, { scoreThreshold: 0.7 })).detections;
      const seenAfter = (await faces320.detect(after, { scoreThreshold: 0.7 })).detections;
      visibleBefore += seenBefore.length;
      for (const face of seenAfter) {
        if (!seenBefore.some((f) => iou(f.box, face.box) >= 0.3)) continue;
        if (changed(before, after, face.box) < 0.5)
          leaks.push(`${after.width}x${after.height} ${face.box.join(',')}`);
      }
    }
    return { visibleBefore, leaks };
  }

  for (const mode of ['blur', 'pixelate'] as const) {
    it(`classify, every payload kind, faces ${mode}`, async () => {
      const guard = await createPrivacyGuard({
        config: PrivacySchema.parse({ faces: mode }),
        faceDetector: faces320,
      });
      const { spy, rendered } = spyOn(guard);
      const classifier = await createOnnxClassifier(await resolveModel('squeezenet1.1', modelsDir));
      const labels = await loadLabels(modelsDir);
      const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
      const records: FrameRecord[] = [];
      try {
        for (const kind of ['crop', 'frame', 'original'] as const) {
          const agent = createEdgeAgent({
            deviceId: `cam-${kind}`,
            classifier,
            labels,
            link,
            policy: createPolicy({ kind: 'always' }),
            payload: { kind, quality: 85 },
            privacy: spy,
            deadlineMs: 100,
            maxInFlight: 4,
            logger: testLogger,
            onRecord: (r) => records.push(r),
          });
          await agent.run(await folder(await subset(/^faces_/)));
        }
      } finally {
        await classifier.close();
      }
      expect(records).toHaveLength(30);
      expect(link.payloads).toHaveLength(30);
      expect(records.every((r) => r.redactions?.metadata === 'stripped')).toBe(true);
      expect(records.reduce((n, r) => n + (r.redactions?.faces ?? 0), 0)).toBeGreaterThan(100);
      const { visibleBefore, leaks } = await audit(link.payloads, rendered);
      // The photos show hundreds of faces, so the audit had something to find.
      expect(visibleBefore).toBeGreaterThan(300);
      expect(leaks).toEqual([]);
    });
  }

  it('detect: object crops from the face photos', async () => {
    const guard = await createPrivacyGuard({ config: PrivacySchema.parse({}), faceDetector: faces320 });
    const { spy, rendered } = spyOn(guard);
    await using detector = await openDetector({ id: 'yolox-nano-416', modelsDir });
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    const records: DetectRecord[] = [];
    const agent = createDetectAgent({
      deviceId: 'cam-detect',
      detector,
      link,
      // Every detection goes up as a crop, people included: the harshest case for privacy.
      config: DetectSchema.parse({ confident: 1, uncertain: 0.3, maxCrops: 16 }),
      privacy: spy,
      quality: 85,
      deadlineMs: 100,
      maxInFlight: 4,
      logger: testLogger,
      onRecord: (r) => records.push(r),
      verifiable: () => true,
    });
    await agent.run(await folder(await subset(/^faces_/)));
    expect(records).toHaveLength(10);
    expect(link.payloads.length).toBeGreaterThan(10);
    const { visibleBefore, leaks } = await audit(link.payloads, rendered);
    // People's crops went up, so there were faces to hide.
    expect(visibleBefore).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  });

  it('withhold: frames showing a face never leave', async () => {
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: 'withhold' }),
      faceDetector: faces320,
    });
    const classifier = await createOnnxClassifier(await resolveModel('squeezenet1.1', modelsDir));
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    const records: FrameRecord[] = [];
    try {
      const agent = createEdgeAgent({
        deviceId: 'cam-w',
        classifier,
        labels: await loadLabels(modelsDir),
        link,
        policy: createPolicy({ kind: 'always' }),
        payload: { kind: 'crop', quality: 85 },
        privacy: guard,
        deadlineMs: 100,
        maxInFlight: 4,
        logger: testLogger,
        onRecord: (r) => records.push(r),
      });
      await agent.run(await folder(await subset(/^(faces_0[1-3]|coco_000000000025)/)));
    } finally {
      await classifier.close();
    }
    const byFile = Object.fromEntries(records.map((r) => [r.file, r]));
    for (const file of ['faces_01.jpg', 'faces_02.jpg', 'faces_03.jpg']) {
      expect(byFile[file]!.cloud).toMatchObject({ status: 'withheld' });
      expect(byFile[file]!.final?.source).toBe('local');
    }
    // The giraffe has no face: it goes.
    expect(byFile['coco_000000000025.jpg']!.bytesSent).toBeGreaterThan(0);
    expect(link.payloads).toHaveLength(1);
  });
});
