import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage, type GroundTruthImage, loadGroundTruth, type RawImage } from '@squeezegate/shared';

/** One image of the detection sample, decoded once (benches time detection, not JPEG decoding). */
export interface SampleFrame {
  name: string;
  /** `labels.json` set: `kitti`, `coco`, `faces`, `kitti_unlabelled`. */
  set: string;
  bytes: Buffer;
  image: RawImage;
  truth: GroundTruthImage;
}

/** Whether a frame's detections can be scored (some class is annotated). */
export const isLabelled = (f: SampleFrame) =>
  f.truth.annotated_classes === 'all-coco80' || f.truth.annotated_classes.length > 0;

/** Road frames (labelled or not): the wide 1242×375 shots tiling is for. */
export const isKitti = (f: SampleFrame) => f.set.startsWith('kitti');

export const isFacePhoto = (f: SampleFrame) => f.set === 'faces';

/** Non-ignored ground-truth boxes. */
export const countBoxes = (frames: readonly SampleFrame[]) =>
  frames.reduce((n, f) => n + f.truth.boxes.filter((b) => !b.ignore).length, 0);

/**
 * Reads `<dir>/labels.json` and every image it lists from `<dir>/images/`, in its order. A frame
 * whose decoded size differs from the labels' is an error: its boxes would be in other pixels.
 */
export async function loadDetectionSample(dir: string): Promise<SampleFrame[]> {
  const truth = await loadGroundTruth(path.join(dir, 'labels.json'));
  const frames: SampleFrame[] = [];
  for (const t of truth.images) {
    const bytes = await readFile(path.join(dir, 'images', t.file));
    const image = await decodeImage(bytes);
    if (image.width !== t.width || image.height !== t.height) {
      throw new Error(
        `${t.file} decodes to ${image.width}×${image.height}, labels.json says ${t.width}×${t.height}`,
      );
    }
    frames.push({ name: t.file, set: t.set, bytes, image, truth: t });
  }
  return frames;
}
