import { type Detection, type DetectionResult, type Detector, evaluateDetections } from '@squeezegate/shared';
import type { DetectorRow, TilingRow } from './results.ts';
import { countBoxes, isFacePhoto, isKitti, isLabelled, type SampleFrame } from './sample.ts';
import { mean, ratio, spread, sum } from './stats.ts';

/**
 * SqueezeDet is a KITTI model (car, pedestrian, cyclist): it is scored on the labelled KITTI frames
 * only, where labels.json names Pedestrian/Person_sitting `person` (cyclists are ignore boxes).
 */
const SQUEEZEDET_CLASS_MAP = { pedestrian: 'person' } as const;

interface Timed {
  result: DetectionResult;
  ms: number;
}

async function timedDetect(
  detector: Detector,
  frame: SampleFrame,
  options: Parameters<Detector['detect']>[1] = {},
): Promise<Timed> {
  const start = performance.now();
  const result = await detector.detect(frame.image, options);
  return { result, ms: performance.now() - start };
}

/** The frames a detector is scored on and how its labels map onto the ground truth's. */
function scoring(detector: Detector, frames: readonly SampleFrame[]) {
  if (detector.spec.family === 'squeezedet') {
    return { frames: frames.filter((f) => isLabelled(f) && isKitti(f)), classMap: SQUEEZEDET_CLASS_MAP };
  }
  return { frames: frames.filter(isLabelled), classMap: {} };
}

export interface DetectorsOptions {
  detectors: readonly Detector[];
  frames: readonly SampleFrame[];
  runs: number;
  /** Score down to which detections are collected for AP (P/R stay at the model's threshold). */
  apFloor: number;
  /** Id of the model the others' latency is divided by. */
  baseline: string;
}

/**
 * Section 1: every detector on every frame `runs` times at its own threshold (after one untimed
 * warm-up call), then once more at `apFloor` on the frames it is scored on.
 */
export async function measureDetectors(options: DetectorsOptions): Promise<DetectorRow[]> {
  const { detectors, frames, runs, apFloor } = options;
  const rows: DetectorRow[] = [];
  for (const detector of detectors) {
    const { spec } = detector;
    await detector.detect(frames[0]!.image);
    const latency: number[] = [];
    const infer: number[] = [];
    const firstRun: Detection[][] = [];
    for (let r = 0; r < runs; r++) {
      for (const frame of frames) {
        const { result, ms } = await timedDetect(detector, frame);
        latency.push(ms);
        infer.push(result.inferMs);
        if (r === 0) firstRun.push(result.detections);
      }
    }
    let scoredOn: DetectorRow['scoredOn'] = null;
    let accuracy: DetectorRow['accuracy'] = null;
    let faces: DetectorRow['faces'] = null;
    if (spec.role === 'detector') {
      const scope = scoring(detector, frames);
      const images = [];
      for (const frame of scope.frames) {
        const { detections } = await detector.detect(frame.image, { scoreThreshold: apFloor });
        images.push({ truth: frame.truth, detections });
      }
      accuracy = evaluateDetections(images, {
        classMap: scope.classMap,
        scoreThreshold: spec.thresholds.score,
      });
      scoredOn = { images: scope.frames.length, boxes: countBoxes(scope.frames), classMap: scope.classMap };
    } else {
      const perPhoto = frames.flatMap((f, i) => (isFacePhoto(f) ? [firstRun[i]!.length] : []));
      faces = { photos: perPhoto.length, found: sum(perPhoto), perPhoto };
    }
    rows.push({
      id: spec.id,
      family: spec.family,
      role: spec.role,
      experimental: spec.experimental ?? false,
      scoreThreshold: spec.thresholds.score,
      latencyMs: spread(latency),
      inferMs: spread(infer),
      latencyVsBaseline: null,
      detectionsPerFrame: mean(firstRun.map((d) => d.length)),
      scoredOn,
      accuracy,
      faces,
    });
  }
  const base = rows.find((r) => r.id === options.baseline);
  for (const row of rows) row.latencyVsBaseline = base ? ratio(row.latencyMs.p50, base.latencyMs.p50) : null;
  return rows;
}

/**
 * Section 2: each square-input detector on the KITTI frames with tiling off and auto, the two
 * interleaved frame by frame so both see the same machine state; accuracy on the labelled ones.
 */
export async function measureTiling(options: {
  detectors: readonly Detector[];
  frames: readonly SampleFrame[];
  runs: number;
}): Promise<TilingRow[]> {
  const { detectors, frames, runs } = options;
  const rows: TilingRow[] = [];
  for (const detector of detectors) {
    const modes = ['off', 'auto'] as const;
    const latency = { off: [] as number[], auto: [] as number[] };
    const passes = { off: [] as number[], auto: [] as number[] };
    const found = { off: [] as Detection[][], auto: [] as Detection[][] };
    for (const tiling of modes) await detector.detect(frames[0]!.image, { tiling });
    for (let r = 0; r < runs; r++) {
      for (const frame of frames) {
        for (const tiling of modes) {
          const { result, ms } = await timedDetect(detector, frame, { tiling });
          latency[tiling].push(ms);
          if (r > 0) continue;
          passes[tiling].push(result.tiles);
          found[tiling].push(result.detections);
        }
      }
    }
    const labelled = frames.flatMap((f, i) => (isLabelled(f) ? [i] : []));
    const off = spread(latency.off);
    for (const tiling of modes) {
      const latencyMs = spread(latency[tiling]);
      rows.push({
        id: detector.spec.id,
        tiling,
        frames: frames.length,
        passesPerFrame: mean(passes[tiling]),
        latencyMs,
        latencyVsOff: ratio(latencyMs.p50, off.p50),
        accuracy: evaluateDetections(
          labelled.map((i) => ({ truth: frames[i]!.truth, detections: found[tiling][i]! })),
        ),
        labelledFrames: labelled.length,
      });
    }
  }
  return rows;
}
