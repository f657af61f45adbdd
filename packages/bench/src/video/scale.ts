import type { Scale } from '@squeezegate/edge';
import type { Classifier, Detector } from '@squeezegate/shared';
import type { VideoTask } from './config.ts';

/**
 * The size the agent analyses a task's frames at, so the JPEG baseline encodes the same frames:
 * classify at the edge classifier's resize side, detect at the detector's input side.
 */
export function analysedScale(
  task: VideoTask,
  models: { classifier?: Classifier | undefined; detector?: Detector | undefined },
): Scale {
  if (task === 'classify') {
    if (!models.classifier) throw new Error('classify needs the edge classifier');
    return { shortSide: models.classifier.spec.preprocess.resizeShortSide };
  }
  if (!models.detector) throw new Error('detect needs the edge detector');
  const { width, height } = models.detector.spec.input;
  return { longSide: Math.max(width, height) };
}
