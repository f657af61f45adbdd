import type { ModelId, PolicyConfig } from '@squeezegate/shared';
import { type Decision, fmt, type Policy, type PolicyInput } from './decision.ts';
import { type ExtraNeeds, extrasNeeded } from './features.ts';
import { deferralScore } from './learned.ts';

/** The alt model a learned rule's `alt*` features run when its config names none. */
export const DEFAULT_ALT_MODEL: ModelId = 'squeezenet1.0-deepcompression';

/**
 * The extra edge passes a policy needs per frame (issue 16 §2), or null: the agent runs them
 * (`runExtraPasses`) and hands them to `decide` as `extras`; `altModel` is the classifier the
 * runtime must load for the `alt*` features.
 */
export function extraPassesFor(config: PolicyConfig): (ExtraNeeds & { altModel: ModelId | null }) | null {
  if (config.kind !== 'learned') return null;
  const needs = extrasNeeded(config.rule.features);
  if (!needs.flip && !needs.alt) return null;
  return { ...needs, altModel: needs.alt ? (config.altModel ?? DEFAULT_ALT_MODEL) : null };
}

/** Builds the stateful policy an agent consults for every frame. */
export function createPolicy(config: PolicyConfig): Policy {
  switch (config.kind) {
    case 'never':
      return stateless(config.kind, 1, () => ({
        kind: 'local',
        policy: 'never',
        reason: 'policy never: nothing leaves',
      }));
    case 'always':
      return stateless(config.kind, 1, () => ({
        kind: 'offload',
        policy: 'always',
        reason: 'policy always: cloud-only',
      }));
    case 'threshold': {
      const { measure, threshold, temperature } = config;
      return stateless('threshold', temperature, ({ confidence }) => {
        const value = confidence[measure];
        const detail = { policy: 'threshold' as const, measure, value, threshold };
        return value < threshold
          ? { kind: 'offload', ...detail, reason: `${measure} ${fmt(value)} < ${threshold}` }
          : { kind: 'local', ...detail, reason: `${measure} ${fmt(value)} >= ${threshold}` };
      });
    }
    case 'learned': {
      const { rule, threshold } = config;
      const needs = extrasNeeded(rule.features);
      const policy = stateless('learned', 1, ({ probs, extras }) => {
        // A rule reading flip/alt features throws MissingExtraError when the agent ran no passes.
        const value = deferralScore(rule, probs, extras);
        const detail = { policy: 'learned' as const, measure: 'learned' as const, value, threshold };
        return value >= threshold
          ? { kind: 'offload', ...detail, reason: `deferral score ${fmt(value)} >= ${threshold}` }
          : { kind: 'local', ...detail, reason: `deferral score ${fmt(value)} < ${threshold}` };
      });
      return needs.flip || needs.alt ? { ...policy, extras: needs } : policy;
    }
    case 'rate':
      return createRatePolicy(config);
    case 'budget':
      return createBudgetPolicy(config);
  }
}

function stateless(
  kind: Policy['kind'],
  temperature: number,
  decide: (input: PolicyInput) => Decision,
): Policy {
  return { kind, temperature, decide, spent: () => {} };
}

/**
 * `rate`: offload when the confidence is below an online estimate of its `target` quantile
 * (stochastic approximation: q ← q + η·(target − 1[c < q])), so the share holds whatever the
 * scene; a credit of `target` per frame, capped at `burst`, makes it a hard ceiling too:
 * after n frames at most target·n + burst have gone.
 */
function createRatePolicy(config: Extract<PolicyConfig, { kind: 'rate' }>): Policy {
  const { target, measure, temperature, burst } = config;
  let q = target; // a prior: for a calibrated probability, the target quantile is near target
  let credit = Math.min(1, burst);
  let n = 0;
  return {
    kind: 'rate',
    temperature,
    decide({ confidence }) {
      const value = confidence[measure];
      n++;
      const below = value < q;
      const threshold = q;
      // The step shrinks as evidence accumulates, but never below a floor so it can follow drift.
      const eta = Math.max(0.01, 0.2 / Math.sqrt(n));
      credit = Math.min(burst, credit + target);
      // Tolerance: adding `target` n times leaves float dust (0.9999999999999998).
      const go = below && credit >= 1 - 1e-9;
      if (go) credit -= 1;
      // Learn from what was sent, not from what wanted to go, so held frames raise the bar.
      q = Math.min(1, Math.max(0, q + eta * (target - (go ? 1 : 0))));
      const detail = { policy: 'rate' as const, measure, value, threshold };
      if (!below)
        return {
          kind: 'local',
          ...detail,
          reason: `${measure} ${fmt(value)} >= q${target} ${fmt(threshold)}`,
        };
      if (!go) {
        return {
          kind: 'local',
          ...detail,
          held: true,
          reason: `rate share ${target} used up (credit ${fmt(credit)})`,
        };
      }
      return {
        kind: 'offload',
        ...detail,
        reason: `${measure} ${fmt(value)} < q${target} ${fmt(threshold)}`,
      };
    },
    spent: () => {},
  };
}

/**
 * `budget`: a token bucket of bytes refilled at `bytesPerSecond` (a frame is admitted on its
 * expected size, so one frame larger than expected can overdraw the bucket once). A frame below the threshold
 * goes when the bucket holds its expected size and its confidence is below threshold × fill,
 * so as the bucket drains only the least confident frames still go; the others are recorded as
 * held. Sizes are estimated from what was sent (a running mean) and settled once known.
 */
function createBudgetPolicy(config: Extract<PolicyConfig, { kind: 'budget' }>): Policy {
  const { bytesPerSecond, measure, temperature, threshold } = config;
  const capacity = config.burstBytes ?? 2 * bytesPerSecond;
  let tokens = capacity;
  let last: number | null = null;
  let expected = Math.min(capacity, 16_000);
  // Sizes reserved at decision time, settled in the same order once the payload is shaped.
  const reservations: number[] = [];
  return {
    kind: 'budget',
    temperature,
    decide({ confidence }, nowMs) {
      if (last !== null) tokens = Math.min(capacity, tokens + ((nowMs - last) / 1000) * bytesPerSecond);
      last = nowMs;
      const value = confidence[measure];
      const fill = Math.max(0, tokens) / capacity;
      const bar = threshold * fill;
      const detail = { policy: 'budget' as const, measure, value, threshold: bar };
      if (value >= threshold)
        return { kind: 'local', ...detail, reason: `${measure} ${fmt(value)} >= ${threshold}` };
      if (tokens < expected || value >= bar) {
        return {
          kind: 'local',
          ...detail,
          held: true,
          reason: `byte budget: ${Math.max(0, Math.round(tokens))} B left (${Math.round(fill * 100)} %), ${measure} ${fmt(value)} not below ${fmt(bar)}`,
        };
      }
      tokens -= expected;
      reservations.push(expected);
      return {
        kind: 'offload',
        ...detail,
        reason: `${measure} ${fmt(value)} < ${fmt(bar)} within byte budget`,
      };
    },
    spent(bytes) {
      tokens += (reservations.shift() ?? 0) - bytes;
      expected = 0.8 * expected + 0.2 * bytes;
    },
  };
}
