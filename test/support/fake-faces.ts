import { type Detector, getDetectorSpec, type RawImage } from '@squeezegate/shared';

/**
 * A face detector that finds one face wherever `at` puts it (as fractions of the image: left, top,
 * right, bottom), and counts its calls.
 */
export function fakeFaces(
  at: readonly [number, number, number, number] = [0.25, 0.25, 0.5, 0.5],
): Detector & { calls: number } {
  const detector = {
    calls: 0,
    spec: getDetectorSpec('ultraface-rfb320')!,
    labels: ['face'],
    async detect(image: RawImage) {
      detector.calls++;
      const box = [
        image.width * at[0],
        image.height * at[1],
        image.width * at[2],
        image.height * at[3],
      ] as const;
      return {
        detections: [{ box, classIndex: 0, label: 'face', score: 0.9 }],
        inferMs: 0,
        preMs: 0,
        tiles: 1,
      };
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
  return detector;
}
