import {
  type Cut,
  candidateFloor,
  classificationCut,
  type PrivacyGuard,
  planObjects,
  squareAround,
} from '@squeezegate/edge';
import type { DetectConfig, Detector } from '@squeezegate/shared';
import type { CascadeRow } from './results.ts';
import type { SampleFrame } from './sample.ts';
import { ratio } from './stats.ts';

/** What one frame costs on the uplink three ways. */
export interface FrameCost {
  set: string;
  capturedBytes: number;
  frameQ85Bytes: number;
  cascadeBytes: number;
  crops: number;
  framePayloads: number;
  facesObscured: number;
}

export interface CascadeOptions {
  detector: Detector;
  config: DetectConfig;
  privacy: PrivacyGuard;
  quality: number;
  cloudView: { resizeShortSide: number; centerCrop: number };
}

/**
 * One frame as the detect agent (packages/edge/src/agent/detect-agent.ts) would handle it, without
 * a gateway: detect down to the candidate floor, plan, cut each uncertain detection's padded
 * square at the cloud model's crop size (and the downscaled frame for a near miss), scan the
 * frame for faces once and render every payload through the privacy guard. The baselines: the
 * file as captured, and the whole frame at the cloud model's short side through the same guard.
 */
export async function frameCost(frame: SampleFrame, options: CascadeOptions): Promise<FrameCost> {
  const { detector, config, privacy, quality, cloudView } = options;
  const { image } = frame;
  const minScore = config.minScore ?? detector.spec.thresholds.score;
  const { detections: candidates } = await detector.detect(image, {
    scoreThreshold: candidateFloor(config, minScore),
    tiling: config.tiling,
  });
  const plan = planObjects(candidates, config, minScore);
  const cuts: Cut[] = plan.verify.map((d) => ({
    region: squareAround(d.box, config.cropPadding, image),
    width: cloudView.centerCrop,
    height: cloudView.centerCrop,
  }));
  if (plan.sendFrame) cuts.push(classificationCut('frame', image, cloudView));
  const scan = await privacy.scan(image);
  let cascadeBytes = 0;
  let facesObscured = 0;
  for (const cut of cuts) {
    const out = await privacy.render(image, scan, cut, quality);
    if (out.kind === 'withheld') continue;
    cascadeBytes += out.bytes.length;
    facesObscured += out.redactions.faces;
  }
  const whole = await privacy.render(image, scan, classificationCut('frame', image, cloudView), quality);
  return {
    set: frame.set,
    capturedBytes: frame.bytes.length,
    frameQ85Bytes: whole.kind === 'payload' ? whole.bytes.length : 0,
    cascadeBytes,
    crops: plan.verify.length,
    framePayloads: plan.sendFrame ? 1 : 0,
    facesObscured,
  };
}

/** Sums frame costs per set, in first-seen order, then over all frames. */
export function cascadeRows(costs: readonly FrameCost[]): CascadeRow[] {
  const sets = [...new Set(costs.map((c) => c.set))];
  const row = (set: string, of: readonly FrameCost[]): CascadeRow => {
    const total = (k: keyof Omit<FrameCost, 'set'>) => of.reduce((s, c) => s + c[k], 0);
    const cascadeBytes = total('cascadeBytes');
    return {
      set,
      frames: of.length,
      local: of.filter((c) => c.crops === 0 && c.framePayloads === 0).length,
      crops: total('crops'),
      framePayloads: total('framePayloads'),
      capturedBytes: total('capturedBytes'),
      frameQ85Bytes: total('frameQ85Bytes'),
      cascadeBytes,
      facesObscured: total('facesObscured'),
      vsCaptured: ratio(cascadeBytes, total('capturedBytes')),
      vsFrameQ85: ratio(cascadeBytes, total('frameQ85Bytes')),
    };
  };
  return [
    ...sets.map((s) =>
      row(
        s,
        costs.filter((c) => c.set === s),
      ),
    ),
    row('all', costs),
  ];
}

export async function measureCascade(
  frames: readonly SampleFrame[],
  options: CascadeOptions,
): Promise<CascadeRow[]> {
  const costs: FrameCost[] = [];
  for (const frame of frames) costs.push(await frameCost(frame, options));
  return cascadeRows(costs);
}
