import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Detection,
  type DetectorId,
  decodeImage,
  drawDetections,
  evaluateDetections,
  type GroundTruth,
  type GroundTruthImage,
  loadGroundTruth,
  openDetector,
  type RawImage,
} from '@squeezegate/shared';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectionDatasetDir, haveDetectionModels, modelsDir, repoRoot } from '../support/env.ts';

/**
 * The real detectors reproduce DETECTION.md on the detection sample (11 labelled images, 33
 * ground-truth boxes), and their drawn detections land in test/artifacts/detections/.
 *
 * Tolerances. Our pipeline reproduces the table exactly on the reference VM (sharp 0.35 /
 * onnxruntime-node 1.30). What may differ elsewhere is resampling (libvips builds) and float
 * rounding in ORT kernels, which move scores by a few thousandths: at most a box or two that sits
 * on the 0.30 / 0.40 threshold or on IoU 0.5 flips. One box is ±1 on TP/FP/FN; on 20–28
 * predictions and 33 ground-truth boxes it moves precision by ≤ 0.05 and recall by 0.03. So:
 * counts ±1, precision/recall ±0.05, AP ±0.02 (AP integrates over many boxes and moves less).
 */
const COUNT_TOL = 1;
const RATE_TOL = 0.05;
const AP_TOL = 0.02;
/**
 * Score at which detections are collected for AP. DETECTION.md's AP column exceeds the recall
 * possible at 0.30 (YOLOX: 0.463 > 13/33), so it was ranked over a longer list: collecting at
 * 0.05 reproduces it (0.463 YOLOX, 0.430 PicoDet, 0.667 SqueezeDet). P/R/TP/FP/FN are then
 * counted at the table's operating threshold.
 */
const AP_COLLECT = 0.05;

interface Reference {
  id: DetectorId;
  threshold: number;
  kittiOnly: boolean;
  classMap?: Record<string, string>;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  ap50: number;
}

// DETECTION.md, "Accuracy on the sample set".
const TABLE: Reference[] = [
  {
    id: 'yolox-nano-416',
    threshold: 0.3,
    kittiOnly: false,
    tp: 13,
    fp: 7,
    fn: 20,
    precision: 0.65,
    recall: 0.39,
    ap50: 0.463,
  },
  {
    id: 'picodet-s-320',
    threshold: 0.3,
    kittiOnly: false,
    tp: 14,
    fp: 14,
    fn: 19,
    precision: 0.5,
    recall: 0.42,
    ap50: 0.429,
  },
  {
    id: 'squeezedet-kitti-experimental',
    threshold: 0.4,
    kittiOnly: true,
    classMap: { pedestrian: 'person' },
    tp: 2,
    fp: 1,
    fn: 1,
    precision: 0.67,
    recall: 0.67,
    ap50: 0.667,
  },
];

// Faces per photo for UltraFace-320 (DETECTION.md: "1, 4, 5, 5, 14, 8, 5, 2" on the eight
// photos where it and YuNet agree; 44 and 109 on the two crowds).
const FACES_320: Record<string, number> = {
  'faces_02.jpg': 4,
  'faces_03.jpg': 5,
  'faces_05.jpg': 1,
  'faces_06.jpg': 14,
  'faces_09.jpg': 8,
  'faces_12.jpg': 5,
  'faces_13.jpg': 2,
  'faces_19.jpg': 5,
};
// Crowd faces sit near the 0.7 threshold and at the smallest anchors, so resampling differences
// move a few of them; the doc itself calls these counts approximate.
const CROWDS: Record<string, Record<'ultraface-rfb320' | 'ultraface-rfb640', number>> = {
  'faces_01.jpg': { 'ultraface-rfb320': 44, 'ultraface-rfb640': 52 },
  'faces_17.jpg': { 'ultraface-rfb320': 109, 'ultraface-rfb640': 146 },
};
const CROWD_TOL = 3;

const ARTIFACTS = path.join(repoRoot, 'test/artifacts/detections');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe.skipIf(!haveDetectionModels)('real detectors on the detection sample', () => {
  let truth: GroundTruth;
  const frames = new Map<string, RawImage>();
  // `[]` marks an unlabelled image; `'all-coco80'` or a class list a labelled one.
  const labelled = () =>
    truth.images.filter((im) => im.annotated_classes === 'all-coco80' || im.annotated_classes.length > 0);
  const bySet = (prefix: string) => truth.images.filter((im) => im.set.startsWith(prefix));

  beforeAll(async () => {
    truth = await loadGroundTruth(path.join(detectionDatasetDir, 'labels.json'));
    for (const im of truth.images) {
      const frame = await decodeImage(path.join(detectionDatasetDir, 'images', im.file));
      expect([frame.width, frame.height], im.file).toEqual([im.width, im.height]);
      frames.set(im.file, frame);
    }
    await mkdir(ARTIFACTS, { recursive: true });
  });

  /** Draws detections, writes the PNG and checks it is one, of the frame's size. */
  async function drawAndCheck(id: string, file: string, detections: readonly Detection[]): Promise<void> {
    const frame = frames.get(file)!;
    const png = await drawDetections(frame, detections);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE), file).toBe(true);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', frame.width, frame.height]);
    await writeFile(path.join(ARTIFACTS, `${id}__${file.replace(/\.jpg$/, '.png')}`), png);
  }

  it('loads the sample ground truth: 11 labelled images holding 33 scored boxes', () => {
    expect(truth.images).toHaveLength(28);
    expect(labelled()).toHaveLength(11);
    expect(labelled().flatMap((im) => im.boxes.filter((b) => !b.ignore))).toHaveLength(33);
  });

  it.each(TABLE.map((r) => [r.id, r] as const))('%s reproduces its DETECTION.md row', async (id, ref) => {
    await using detector = await openDetector({ id, modelsDir });
    const scored: { truth: GroundTruthImage; detections: Detection[] }[] = [];
    const inferMs: number[] = [];
    const preMs: number[] = [];
    for (const im of labelled()) {
      if (ref.kittiOnly && im.set !== 'kitti') continue;
      const r = await detector.detect(frames.get(im.file)!, { scoreThreshold: AP_COLLECT });
      expect(r.tiles).toBe(1);
      inferMs.push(r.inferMs);
      preMs.push(r.preMs);
      scored.push({ truth: im, detections: r.detections });
    }
    const m = evaluateDetections(scored, {
      scoreThreshold: ref.threshold,
      ...(ref.classMap ? { classMap: ref.classMap } : {}),
    });
    console.info(
      `${id}: TP ${m.tp} FP ${m.fp} FN ${m.fn} P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)} AP50 ${m.ap50.toFixed(3)}; median infer ${median(inferMs).toFixed(1)} ms, pre ${median(preMs).toFixed(1)} ms`,
    );
    expect(Math.abs(m.tp - ref.tp)).toBeLessThanOrEqual(COUNT_TOL);
    expect(Math.abs(m.fp - ref.fp)).toBeLessThanOrEqual(COUNT_TOL);
    expect(Math.abs(m.fn - ref.fn)).toBeLessThanOrEqual(COUNT_TOL);
    expect(Math.abs(m.precision - ref.precision)).toBeLessThanOrEqual(RATE_TOL);
    expect(Math.abs(m.recall - ref.recall)).toBeLessThanOrEqual(RATE_TOL);
    expect(Math.abs(m.ap50 - ref.ap50)).toBeLessThanOrEqual(AP_TOL);

    // Every detection is a real box inside its frame, sorted, at or above the threshold asked for.
    for (const { truth: im, detections } of scored) {
      detections.forEach((d, i) => {
        const [x1, y1, x2, y2] = d.box;
        expect(x1 >= 0 && y1 >= 0 && x2 <= im.width && y2 <= im.height && x2 > x1 && y2 > y1, im.file).toBe(
          true,
        );
        expect(d.score).toBeGreaterThanOrEqual(AP_COLLECT);
        expect(detector.labels[d.classIndex]).toBe(d.label);
        if (i > 0) expect(d.score).toBeLessThanOrEqual(detections[i - 1]!.score);
      });
    }

    // Drawn at the operating threshold: the labelled frames and the unlabelled road scenes.
    const roads = bySet('kitti_unlabelled').map((im) => im.file);
    const draw = [...scored.map((s) => s.truth.file), ...roads];
    for (const file of draw) {
      const own = scored.find((s) => s.truth.file === file)?.detections;
      const dets = own ?? (await detector.detect(frames.get(file)!)).detections;
      await drawAndCheck(
        id,
        file,
        dets.filter((d) => d.score >= ref.threshold),
      );
    }
  });

  it.each(['yolox-nano-416', 'picodet-s-320'] as const)(
    '%s with tiling finds more of the KITTI objects than letterboxing the whole frame',
    async (id) => {
      await using detector = await openDetector({ id, modelsDir });
      const kitti = truth.images.filter((im) => im.set === 'kitti');
      const run = async (tiling: 'off' | 'auto') => {
        const scored = [];
        for (const im of kitti) {
          const r = await detector.detect(frames.get(im.file)!, { tiling });
          expect(r.tiles).toBe(tiling === 'off' ? 1 : 5);
          scored.push({ truth: im, detections: r.detections });
        }
        return evaluateDetections(scored);
      };
      const off = await run('off');
      const auto = await run('auto');
      console.info(
        `${id} KITTI (3 GT): tiling off TP ${off.tp} FP ${off.fp} FN ${off.fn}; auto TP ${auto.tp} FP ${auto.fp} FN ${auto.fn}`,
      );
      // DETECTION.md: letterboxed, each finds 1 of the 3 objects.
      expect(off.tp).toBe(1);
      expect(auto.tp).toBeGreaterThanOrEqual(2);
      expect(auto.fp).toBeLessThanOrEqual(off.fp + 1);
      for (const im of kitti) {
        const r = await detector.detect(frames.get(im.file)!, { tiling: 'auto' });
        await drawAndCheck(`${id}-tiled`, im.file, r.detections);
      }
    },
  );

  it.each(['ultraface-rfb320', 'ultraface-rfb640'] as const)(
    '%s counts the faces DETECTION.md reports',
    async (id) => {
      await using detector = await openDetector({ id, modelsDir });
      expect(detector.labels).toEqual(['face']);
      const counts: Record<string, number> = {};
      const inferMs: number[] = [];
      for (const im of bySet('faces')) {
        const r = await detector.detect(frames.get(im.file)!);
        counts[im.file] = r.detections.length;
        inferMs.push(r.inferMs);
        expect(r.detections.every((d) => d.label === 'face' && d.classIndex === 0 && d.score >= 0.7)).toBe(
          true,
        );
        await drawAndCheck(id, im.file, r.detections);
      }
      console.info(`${id}: faces ${JSON.stringify(counts)}; median infer ${median(inferMs).toFixed(1)} ms`);
      // Both resolutions agree with UltraFace-320 (and YuNet) on the eight non-crowd photos.
      for (const [file, n] of Object.entries(FACES_320)) expect(counts[file], file).toBe(n);
      expect(Object.values(FACES_320).sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 5, 5, 8, 14]);
      for (const [file, n] of Object.entries(CROWDS)) {
        expect(Math.abs(counts[file]! - n[id]), file).toBeLessThanOrEqual(CROWD_TOL);
      }
    },
  );
});
