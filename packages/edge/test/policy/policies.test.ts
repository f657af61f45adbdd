import {
  createPolicy,
  type Decision,
  deferralScore,
  edgeFeatures,
  type PolicyInput,
} from '@squeezegate/edge';
import { type ConfidenceMeasure, confidences, PolicySchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../test/support/prng.ts';

/** Configs go through the schema, as `main.ts` does, so the defaults under test are the real ones. */
const policyOf = (raw: unknown) => createPolicy(PolicySchema.parse(raw));

/** What the agent hands a policy: the probabilities and every measure at the policy's temperature. */
function inputOf(probs: ArrayLike<number>, temperature = 1): PolicyInput {
  const p = Float32Array.from(probs);
  return { probs: p, confidence: confidences(p, { temperature }) };
}

/**
 * The stateful policies read only `confidence[measure]`, so a stream can set that number directly
 * and control its distribution exactly; the probabilities are a placeholder.
 */
function streamInput(c: number): PolicyInput {
  return {
    probs: new Float32Array([c, 1 - c]),
    confidence: { maxProb: c, margin: c, entropy: c, calibrated: c },
  };
}

const isHeld = (d: Decision): boolean => d.kind === 'local' && d.held === true;

describe('threshold policy', () => {
  // maxProb 0.42, margin 0.04, entropy 1 − H/ln 3 ≈ 0.0461 (all computed on float32 probabilities).
  const unsure = [0.42, 0.38, 0.2];

  it('offloads below the threshold with the measure, value, threshold and a readable reason', () => {
    const policy = policyOf({ kind: 'threshold' });
    const input = inputOf(unsure);
    const d = policy.decide(input, 0);
    expect(d).toEqual({
      kind: 'offload',
      policy: 'threshold',
      measure: 'maxProb',
      value: input.confidence.maxProb,
      threshold: 0.85,
      reason: 'maxProb 0.420 < 0.85',
    });
    expect(d.value).toBeCloseTo(0.42, 6);
  });

  it('keeps a frame exactly at the threshold local', () => {
    const d = policyOf({ kind: 'threshold', threshold: 0.5 }).decide(inputOf([0.5, 0.25, 0.25]), 0);
    expect(d).toEqual({
      kind: 'local',
      policy: 'threshold',
      measure: 'maxProb',
      value: 0.5,
      threshold: 0.5,
      reason: 'maxProb 0.500 >= 0.5',
    });
  });

  it.each<[ConfidenceMeasure, number]>([
    ['maxProb', 0.42],
    ['margin', 0.04],
    ['entropy', 1 - -(0.42 * Math.log(0.42) + 0.38 * Math.log(0.38) + 0.2 * Math.log(0.2)) / Math.log(3)],
  ])('on %s: offloads just below its value, stays local at it', (measure, expected) => {
    const input = inputOf(unsure);
    const value = input.confidence[measure];
    expect(value).toBeCloseTo(expected, 6);

    const above = policyOf({ kind: 'threshold', measure, threshold: value + 0.01 }).decide(input, 0);
    expect(above.kind).toBe('offload');
    expect(above.measure).toBe(measure);
    expect(above.value).toBe(value);
    expect(above.reason).toBe(`${measure} ${value.toFixed(3)} < ${value + 0.01}`);

    const at = policyOf({ kind: 'threshold', measure, threshold: value }).decide(input, 0);
    expect(at.kind).toBe('local');
    expect(at.threshold).toBe(value);
    expect(at.reason).toBe(`${measure} ${value.toFixed(3)} >= ${value}`);
  });

  it('on calibrated: uses the temperature it carries, so a frame maxProb keeps can go', () => {
    const policy = policyOf({ kind: 'threshold', measure: 'calibrated', threshold: 0.4, temperature: 2 });
    expect(policy.temperature).toBe(2);
    const input = inputOf(unsure, policy.temperature);
    // At T = 2 each p becomes √p / Σ√p.
    const root = unsure.map(Math.sqrt);
    const calibrated = root[0]! / (root[0]! + root[1]! + root[2]!);
    expect(input.confidence.calibrated).toBeCloseTo(calibrated, 5);
    expect(calibrated).toBeCloseTo(0.3788, 3);

    const d = policy.decide(input, 0);
    expect(d).toMatchObject({ kind: 'offload', measure: 'calibrated', threshold: 0.4 });
    expect(d.value).toBeCloseTo(calibrated, 5);
    expect(d.reason).toBe('calibrated 0.379 < 0.4');

    // The same frame on maxProb (0.42) at the same threshold stays.
    expect(policyOf({ kind: 'threshold', threshold: 0.4 }).decide(input, 0).kind).toBe('local');

    const at = policyOf({
      kind: 'threshold',
      measure: 'calibrated',
      threshold: input.confidence.calibrated,
      temperature: 2,
    });
    expect(at.decide(input, 0).kind).toBe('local');
  });
});

describe('never and always', () => {
  it('never keeps every frame local, however unsure', () => {
    const policy = policyOf({ kind: 'never' });
    expect(policy.kind).toBe('never');
    for (const probs of [
      [0.34, 0.33, 0.33],
      [0.99, 0.01],
    ]) {
      expect(policy.decide(inputOf(probs), 0)).toEqual({
        kind: 'local',
        policy: 'never',
        reason: 'policy never: nothing leaves',
      });
    }
  });

  it('always offloads every frame, however sure', () => {
    const policy = policyOf({ kind: 'always' });
    expect(policy.kind).toBe('always');
    for (const probs of [
      [0.34, 0.33, 0.33],
      [0.99, 0.01],
    ]) {
      expect(policy.decide(inputOf(probs), 0)).toEqual({
        kind: 'offload',
        policy: 'always',
        reason: 'policy always: cloud-only',
      });
    }
  });
});

describe('edgeFeatures', () => {
  it('computes every feature of a small vector by hand', () => {
    // H = ½ln2 + ¼ln4 + 2·⅛ln8 = 1.75 ln2, over ln 4 = 2 ln2 → 0.875.
    const f = edgeFeatures([0.125, 0.5, 0.125, 0.25]);
    expect(f.p1).toBe(0.5);
    expect(f.p2).toBe(0.25);
    expect(f.p3).toBe(0.125);
    expect(f.margin).toBe(0.25);
    expect(f.entropy).toBeCloseTo(0.875, 12);
    expect(f.logP1).toBeCloseTo(Math.log(0.5), 12);
    expect(f.top5).toBe(1);
  });

  it('sums only the five largest into top5 and is 0 entropy for one class', () => {
    const f = edgeFeatures([0.1, 0.3, 0.1, 0.2, 0.1, 0.2]);
    expect(f.p1).toBeCloseTo(0.3, 12);
    expect(f.margin).toBeCloseTo(0.1, 12);
    expect(f.top5).toBeCloseTo(0.9, 12);

    const sure = edgeFeatures([0, 1, 0]);
    expect(sure.entropy).toBe(0);
    expect(sure.logP1).toBe(0);
    expect(sure.margin).toBe(1);
  });
});

describe('learned policy', () => {
  /** Defers when p1 is low: z = −4·(p1 − 0.5)/0.25 = −16·(p1 − 0.5). */
  const rule = { features: ['p1'], mean: [0.5], std: [0.25], weights: [-4], bias: 0 };

  it('scores the hand-computed sigmoid', () => {
    const parsed = PolicySchema.parse({ kind: 'learned', rule });
    if (parsed.kind !== 'learned') throw new Error('expected a learned config');
    expect(deferralScore(parsed.rule, [0.4, 0.35, 0.25])).toBeCloseTo(1 / (1 + Math.exp(-1.6)), 12);
    expect(deferralScore(parsed.rule, [0.4, 0.35, 0.25])).toBeCloseTo(0.832018, 6);
    expect(deferralScore(parsed.rule, [0.9, 0.05, 0.05])).toBeCloseTo(1 / (1 + Math.exp(6.4)), 12);
    expect(deferralScore(parsed.rule, [0.5, 0.3, 0.2])).toBe(0.5);

    // Two features, bias: z = 0.3 − 2·(0.5 − 0.5)/0.25 + 1.5·(0.875 − 0.5)/0.2 = 0.3 + 2.8125.
    const two = {
      features: ['p1', 'entropy'],
      mean: [0.5, 0.5],
      std: [0.25, 0.2],
      weights: [-2, 1.5],
      bias: 0.3,
    };
    const parsedTwo = PolicySchema.parse({ kind: 'learned', rule: two });
    if (parsedTwo.kind !== 'learned') throw new Error('expected a learned config');
    expect(deferralScore(parsedTwo.rule, [0.5, 0.25, 0.125, 0.125])).toBeCloseTo(
      1 / (1 + Math.exp(-3.1125)),
      12,
    );
  });

  it('scores a flatter vector higher and offloads iff score >= threshold', () => {
    const policy = policyOf({ kind: 'learned', rule });
    const flat = policy.decide(inputOf([0.4, 0.35, 0.25]), 0);
    const peaked = policy.decide(inputOf([0.9, 0.05, 0.05]), 0);
    expect(flat.value!).toBeGreaterThan(peaked.value!);
    expect(flat).toMatchObject({ kind: 'offload', policy: 'learned', measure: 'learned', threshold: 0.5 });
    expect(flat.reason).toBe('deferral score 0.832 >= 0.5');
    expect(peaked).toMatchObject({ kind: 'local', policy: 'learned', measure: 'learned', threshold: 0.5 });
    expect(peaked.reason).toBe('deferral score 0.002 < 0.5');

    // Exactly at the threshold goes (the rule's "≥"); a hair above it stays.
    const input = inputOf([0.4, 0.35, 0.25]);
    const score = flat.value!;
    expect(policyOf({ kind: 'learned', rule, threshold: score }).decide(input, 0).kind).toBe('offload');
    expect(policyOf({ kind: 'learned', rule, threshold: score + 1e-9 }).decide(input, 0).kind).toBe('local');
  });
});

describe('rate policy', () => {
  const N = 5000;

  /** Runs a stream and checks the hard ceiling (offloaded ≤ target·n + burst) after every frame. */
  function run(policyTarget: number, draw: (i: number) => number) {
    const policy = policyOf({ kind: 'rate', target: policyTarget });
    const burst = 3; // the schema's default
    const decisions: { c: number; d: Decision }[] = [];
    let offloaded = 0;
    let worstSlack = Number.POSITIVE_INFINITY;
    for (let i = 0; i < N; i++) {
      const c = draw(i);
      const d = policy.decide(streamInput(c), i * 33);
      if (d.kind === 'offload') offloaded++;
      worstSlack = Math.min(worstSlack, policyTarget * (i + 1) + burst - offloaded);
      decisions.push({ c, d });
    }
    return { decisions, offloaded, fraction: offloaded / N, worstSlack };
  }

  describe.each([{ target: 0.3 }, { target: 0.1 }])('target $target', ({ target }) => {
    it('holds the share within ±0.03 for uniform confidences', () => {
      const rng = mulberry32(11);
      const { fraction, worstSlack } = run(target, () => rng());
      expect(worstSlack).toBeGreaterThanOrEqual(0);
      expect(Math.abs(fraction - target)).toBeLessThanOrEqual(0.03);
    });

    it('holds the share within ±0.03 for skewed confidences (u³, mostly unsure)', () => {
      const rng = mulberry32(12);
      const { fraction, worstSlack } = run(target, () => rng() ** 3);
      expect(worstSlack).toBeGreaterThanOrEqual(0);
      expect(Math.abs(fraction - target)).toBeLessThanOrEqual(0.03);
    });

    it('never exceeds the hard ceiling on either distribution', () => {
      const rng = mulberry32(14);
      expect(run(target, () => rng()).worstSlack).toBeGreaterThanOrEqual(0);
      expect(run(target, () => rng() ** 3).worstSlack).toBeGreaterThanOrEqual(0);
    });
  });

  it('never exceeds target·n + burst when the scene drifts from sure to unsure, and marks holds', () => {
    const target = 0.3;
    const rng = mulberry32(13);
    // First half mostly sure (0.7..1), second half mostly unsure (0..0.3).
    const { decisions, offloaded, worstSlack } = run(target, (i) =>
      i < N / 2 ? 0.7 + 0.3 * rng() : 0.3 * rng(),
    );
    expect(worstSlack).toBeGreaterThanOrEqual(0);
    expect(offloaded).toBeLessThanOrEqual(target * N + 3);

    const held = decisions.filter(({ d }) => isHeld(d));
    expect(held.length).toBeGreaterThan(0);
    for (const { d } of held) {
      expect(d.kind).toBe('local');
      expect(d.policy).toBe('rate');
      // A held frame was below the quantile estimate: it wanted to go.
      expect(d.value!).toBeLessThan(d.threshold!);
      expect(d.reason).toMatch(/^rate share 0\.3 used up \(credit \d\.\d{3}\)$/);
    }
    // Frames above the estimate are plain local, never marked held.
    for (const { d } of decisions) {
      if (d.value! >= d.threshold!) {
        expect(d.kind).toBe('local');
        expect(isHeld(d)).toBe(false);
      }
    }
  });
});

describe('budget policy', () => {
  const bytesPerSecond = 10_000;
  const frameBytes = 4000;
  const fps = 30;
  const frames = 60 * fps;

  const burst = 2 * bytesPerSecond; // the default bucket

  /**
   * 60 simulated seconds at 30 fps; reports the bytes actually sent after each offload and
   * tracks the worst slack of spent ≤ bytesPerSecond·t + burst over every prefix of the run.
   */
  function run(draw: () => number, size: () => number = () => frameBytes) {
    const policy = policyOf({ kind: 'budget', bytesPerSecond });
    const decisions: { c: number; d: Decision }[] = [];
    let spent = 0;
    let worstSlack = Number.POSITIVE_INFINITY;
    for (let i = 0; i < frames; i++) {
      const c = draw();
      const nowMs = (i * 1000) / fps;
      const d = policy.decide(streamInput(c), nowMs);
      if (d.kind === 'offload') {
        const bytes = size();
        policy.spent(bytes);
        spent += bytes;
      }
      worstSlack = Math.min(worstSlack, (bytesPerSecond * nowMs) / 1000 + burst - spent);
      decisions.push({ c, d });
    }
    return { decisions, spent, worstSlack };
  }

  it('spends at most bytesPerSecond·60 + burst when every frame wants to go, and holds the rest', () => {
    const rng = mulberry32(21);
    const { decisions, spent, worstSlack } = run(() => 0.49 * rng());
    expect(spent).toBeLessThanOrEqual(bytesPerSecond * 60 + burst);
    expect(worstSlack).toBeGreaterThanOrEqual(0);
    // It uses the budget rather than starving: over 90 % of the minute's bytes go.
    expect(spent).toBeGreaterThanOrEqual(0.9 * bytesPerSecond * 60);

    const held = decisions.filter(({ d }) => d.kind === 'local');
    expect(held.length).toBeGreaterThan(frames / 2);
    for (const { d } of held) {
      expect(isHeld(d)).toBe(true);
      expect(d.reason).toMatch(/^byte budget: \d+ B left \(\d+ %\), maxProb 0\.\d{3} not below 0\.\d{3}$/);
    }
  });

  it('overshoots by at most one frame when sizes vary around its running estimate', () => {
    // A frame is admitted on its expected size and settled afterwards, so the last frame sent can
    // be larger than the bucket allowed for: the ceiling holds up to one frame's size.
    const rng = mulberry32(23);
    const maxFrame = 8000;
    const { spent, worstSlack } = run(
      () => 0.49 * rng(),
      () => 2000 + Math.round((maxFrame - 2000) * rng()),
    );
    expect(worstSlack).toBeGreaterThanOrEqual(-maxFrame);
    expect(spent).toBeLessThanOrEqual(bytesPerSecond * 60 + burst + maxFrame);
    expect(spent).toBeGreaterThanOrEqual(0.9 * bytesPerSecond * 60);
  });

  it('lets the least confident frames go first; frames at or above the threshold stay plain local', () => {
    const rng = mulberry32(22);
    // Every tenth frame exactly at the threshold, the rest uniform on [0, 1).
    let i = 0;
    const { decisions } = run(() => (i++ % 10 === 0 ? 0.5 : rng()));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const offloaded = decisions.filter(({ d }) => d.kind === 'offload').map(({ c }) => c);
    const held = decisions.filter(({ d }) => isHeld(d)).map(({ c }) => c);
    expect(offloaded.length).toBeGreaterThan(50);
    expect(held.length).toBeGreaterThan(50);
    expect(mean(offloaded)).toBeLessThan(mean(held));
    expect(Math.max(...offloaded)).toBeLessThan(0.5);
    expect(Math.max(...held)).toBeLessThan(0.5);

    const sure = decisions.filter(({ c }) => c >= 0.5);
    expect(sure.length).toBeGreaterThan(frames / 3);
    for (const { c, d } of sure) {
      expect(d.kind).toBe('local');
      expect(isHeld(d)).toBe(false);
      expect(d.reason).toBe(`maxProb ${c.toFixed(3)} >= 0.5`);
    }
  });
});
