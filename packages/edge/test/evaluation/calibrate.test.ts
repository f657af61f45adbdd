import {
  type CalibrateOptions,
  CalibrationError,
  type CalibrationReport,
  calibrate,
  createPolicy,
  type FramePrediction,
} from '@squeezegate/edge';
import { confidences, LEARNED_FEATURES, LearnedRuleSchema, PolicySchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { syntheticPredictions } from './synthetic.ts';

// Edge-only top-1 ≈ 0.57, cloud-only ≈ 0.83 on this set; the crop is as good as captured at 1/5 of the bytes.
const predictions = syntheticPredictions({ frames: 600, seed: 11 });
const fast = { splits: 40, bootstrap: 100 } as const;

const run = (options: Partial<CalibrateOptions>): CalibrationReport =>
  calibrate({
    predictions,
    target: { kind: 'keep', fraction: 0.95 },
    scorer: 'maxProb',
    variants: ['captured', 'crop-q85'],
    ...fast,
    ...options,
  });

function calibrationError(fn: () => unknown): CalibrationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CalibrationError);
    return err as CalibrationError;
  }
  throw new Error('expected a CalibrationError');
}

/** The share of all frames the fragment's policy, as the agent builds it, would offload. */
function offloadShare(report: CalibrationReport, set: readonly FramePrediction[]): number {
  const policy = createPolicy(PolicySchema.parse(report.fragment.policy));
  const gone = set.filter(
    (p) =>
      policy.decide(
        { probs: p.edge, confidence: confidences(p.edge, { temperature: policy.temperature }) },
        0,
      ).kind === 'offload',
  );
  return gone.length / set.length;
}

function expectInterval(i: { value: number; lo: number; hi: number }) {
  expect(i.lo).toBeLessThanOrEqual(i.value);
  expect(i.value).toBeLessThanOrEqual(i.hi);
  expect(i.hi - i.lo).toBeGreaterThan(0);
}

describe('calibrate with a keep target', () => {
  const report = run({});

  it('returns a threshold fragment on maxProb and the payload it chose', () => {
    expect(report.fragment.policy).toEqual({
      kind: 'threshold',
      measure: 'maxProb',
      threshold: expect.any(Number),
      temperature: 1,
    });
    const threshold = report.fragment.policy.threshold as number;
    expect(threshold).toBeGreaterThan(0);
    expect(threshold).toBeLessThan(1);
    expect(report.fragment.payload).toEqual({ kind: 'crop', codec: 'jpeg', quality: 85 });
    expect(report.variant).toBe('crop-q85');
    expect(report.calibrationFrames + report.heldOutFrames).toBe(600);
    expect(report.heldOutFrames).toBe(300);
  });

  it('reports held-out figures inside their bootstrap intervals, meeting the target', () => {
    expectInterval(report.heldOut.offloadFraction);
    expectInterval(report.heldOut.keptOfCloud);
    expect(report.heldOut.keptOfCloud.value).toBeGreaterThanOrEqual(0.95);
    expect(report.heldOut.met).toBe(true);
    expect(report.heldOut.cascadeTop1).toBeCloseTo(
      report.heldOut.keptOfCloud.value * report.heldOut.cloudTop1,
      12,
    );
    // The crop is 1/5 of the captured bytes, sent for the offloaded share only.
    expect(report.heldOut.bytesRatio).toBeGreaterThan(0.15 * report.heldOut.offloadFraction.value);
    expect(report.heldOut.bytesRatio).toBeLessThan(0.25 * report.heldOut.offloadFraction.value);
  });

  it('holds the target on at least 90 % of random splits', () => {
    expect(report.robustness.splits).toBe(40);
    expect(report.robustness.metFraction).toBeGreaterThanOrEqual(0.9);
    expect(report.robustness.keptMean).toBeGreaterThanOrEqual(0.95);
    expect(report.temperature).toBeUndefined();
  });

  it('gives a fragment that offloads, in the agent, about the held-out share', () => {
    // Both halves come from one distribution: the whole set's share is close to the held-out one.
    expect(Math.abs(offloadShare(report, predictions) - report.heldOut.offloadFraction.value)).toBeLessThan(
      0.08,
    );
  });

  it('offloads more for a stricter target', () => {
    const loose = run({ target: { kind: 'keep', fraction: 0.9 } });
    const strict = run({ target: { kind: 'keep', fraction: 0.98 } });
    expect(loose.heldOut.offloadFraction.value).toBeLessThan(report.heldOut.offloadFraction.value);
    expect(report.heldOut.offloadFraction.value).toBeLessThan(strict.heldOut.offloadFraction.value);
    expect(loose.fragment.policy.threshold as number).toBeLessThan(
      report.fragment.policy.threshold as number,
    );
    expect(strict.robustness.keptMean).toBeGreaterThan(loose.robustness.keptMean);
  });

  it('is reproducible from its seed', () => {
    const options = { splits: 5, bootstrap: 50, seed: 3 };
    expect(run(options)).toEqual(run(options));
  });
});

describe('calibrate with an offload target', () => {
  it('keeps the held-out offload under the cap on most splits', () => {
    const report = run({ target: { kind: 'offload', fraction: 0.3 } });
    expect(report.heldOut.offloadFraction.value).toBeLessThanOrEqual(0.35);
    expect(report.heldOut.offloadFraction.value).toBeGreaterThan(0.15);
    expect(report.robustness.metFraction).toBeGreaterThanOrEqual(0.9);
    expect(report.robustness.offloadMean).toBeLessThanOrEqual(0.3);
  });
});

describe('calibrate errors', () => {
  it('throws TARGET_UNREACHABLE when the payload’s cloud is never right', () => {
    const never = syntheticPredictions({
      frames: 600,
      seed: 11,
      variants: ['frame-q50'],
      cloudRight: { 'frame-q50': () => 0 },
    });
    const err = calibrationError(() =>
      calibrate({
        predictions: never,
        target: { kind: 'keep', fraction: 0.95 },
        scorer: 'maxProb',
        variants: ['frame-q50'],
        ...fast,
      }),
    );
    expect(err.code).toBe('TARGET_UNREACHABLE');
    expect(err.name).toBe('CalibrationError');
    expect(err.message).toContain('keep 0.95');
    expect(err.message).toContain('frame-q50');
  });

  it('throws TARGET_UNREACHABLE for a near-perfect target through a much worse payload', () => {
    const worse = syntheticPredictions({ frames: 600, seed: 11, cloudRight: { 'crop-q85': () => 0.5 } });
    const err = calibrationError(() =>
      calibrate({
        predictions: worse,
        target: { kind: 'keep', fraction: 0.999 },
        scorer: 'maxProb',
        variants: ['crop-q85'],
        ...fast,
      }),
    );
    expect(err.code).toBe('TARGET_UNREACHABLE');
  });

  it('needs at least 20 labelled frames, whatever the unlabelled ones', () => {
    const few = [
      ...predictions.slice(0, 19),
      ...predictions.slice(19, 119).map((p) => ({ ...p, truth: null })),
    ];
    const err = calibrationError(() => run({ predictions: few }));
    expect(err.message).toContain('got 19');
    // With the 20th label it goes through.
    const enough = [
      ...predictions.slice(0, 20),
      ...predictions.slice(20, 119).map((p) => ({ ...p, truth: null })),
    ];
    const report = run({
      predictions: enough,
      target: { kind: 'offload', fraction: 0.5 },
      splits: 2,
      bootstrap: 20,
    });
    expect(report.calibrationFrames + report.heldOutFrames).toBe(20);
  });
});

describe('calibrate scorers', () => {
  it('calibrated: fits a temperature and reports held-out ECE before and after', () => {
    const report = run({ scorer: 'calibrated' });
    const t = report.temperature;
    expect(t).toBeDefined();
    // The synthetic edge is overconfident: the fitted temperature softens it and lowers the ECE.
    expect(t!.value).toBeGreaterThan(1);
    expect(t!.eceAfter).toBeLessThan(t!.eceBefore);
    expect(t!.eceBefore).toBeLessThan(1);
    expect(t!.eceAfter).toBeGreaterThan(0);
    expect(report.fragment.policy).toEqual({
      kind: 'threshold',
      measure: 'calibrated',
      threshold: expect.any(Number),
      temperature: t!.value,
    });
    expect(Math.abs(offloadShare(report, predictions) - report.heldOut.offloadFraction.value)).toBeLessThan(
      0.08,
    );
  });

  it('learned: gives a rule that passes the schema and offloads in the agent as measured', () => {
    const report = run({ scorer: 'learned', splits: 5, bootstrap: 50, variants: ['crop-q85'] });
    const policy = report.fragment.policy;
    expect(policy).toEqual({ kind: 'learned', rule: expect.any(Object), threshold: expect.any(Number) });
    const rule = LearnedRuleSchema.parse(policy.rule);
    expect(rule.features).toEqual([...LEARNED_FEATURES]);
    expect(policy.threshold as number).toBeGreaterThan(0);
    expect(policy.threshold as number).toBeLessThan(1);
    expect(report.heldOut.keptOfCloud.value).toBeGreaterThanOrEqual(0.95);
    // The fragment's threshold is on the deferral score (offload at or above it): the agent's
    // share must match the held-out one, which it would not if the direction were inverted.
    expect(Math.abs(offloadShare(report, predictions) - report.heldOut.offloadFraction.value)).toBeLessThan(
      0.08,
    );
  });
});

describe('calibrate payload choice', () => {
  it('prefers the cheaper payload when both reach the target, whatever their order', () => {
    const a = run({ variants: ['captured', 'crop-q85'], splits: 5 });
    const b = run({ variants: ['crop-q85', 'captured'], splits: 5 });
    expect(a.variant).toBe('crop-q85');
    expect(b.variant).toBe('crop-q85');
    const captured = run({ variants: ['captured'], splits: 5 });
    expect(captured.variant).toBe('captured');
    expect(captured.fragment.payload).toEqual({ kind: 'original', codec: 'jpeg', quality: 85 });
    expect(a.heldOut.bytesRatio).toBeLessThan(captured.heldOut.bytesRatio / 3);
  });

  it('keeps the costlier payload when the cheap one cannot reach the target', () => {
    const never = syntheticPredictions({ frames: 600, seed: 11, cloudRight: { 'crop-q85': () => 0 } });
    const report = run({ predictions: never, variants: ['crop-q85', 'captured'], splits: 5 });
    expect(report.variant).toBe('captured');
    expect(report.fragment.payload).toEqual({ kind: 'original', codec: 'jpeg', quality: 85 });
  });
});

describe('calibrate with tied scores', () => {
  // Known bug (calibrate.ts, chooseThreshold): when the chosen cut falls inside a group of equal
  // scores, the midpoint threshold equals that score and `score < threshold` offloads none of the
  // group, so fewer frames go than the bootstrap said were needed. Here half the frames share
  // maxProb 0.5 with the edge right on 60 % of them: keeping 90 % needs some of them offloaded,
  // but the threshold comes out at exactly 0.5 and nothing goes. Turn into `it` once the cut is
  // moved to the end of the tie group (keep targets) or its start (offload targets).
  it('offloads the tie group the bootstrap needed', () => {
    const tied: FramePrediction[] = Array.from({ length: 400 }, (_, i) => {
      const inTie = i % 2 === 0;
      const p1 = inTie ? 0.5 : 0.6 + (i / 400) * 0.39;
      const truth = inTie && i % 10 >= 6 ? 1 : 0;
      const q = (1 - p1) / 3;
      return {
        name: `t${i}`,
        truth,
        capturedBytes: 1000,
        edge: Float32Array.from([p1, q, q, q]),
        cloud: { captured: { top1: truth, p: 1, bytes: 1000 } } as FramePrediction['cloud'],
      };
    });
    const report = calibrate({
      predictions: tied,
      target: { kind: 'keep', fraction: 0.9 },
      scorer: 'maxProb',
      variants: ['captured'],
      splits: 10,
      bootstrap: 50,
    });
    expect(report.heldOut.offloadFraction.value).toBeGreaterThan(0);
    expect(report.heldOut.met).toBe(true);
  });
});
