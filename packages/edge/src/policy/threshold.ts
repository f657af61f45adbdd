import type { ConfidenceMeasure, PolicyConfig } from '@squeezegate/shared';

/** Why a frame stays or goes; every frame's record carries one. */
export type Decision =
  | { kind: 'local'; reason: string; measure: ConfidenceMeasure; value: number; threshold: number }
  | { kind: 'offload'; reason: string; measure: ConfidenceMeasure; value: number; threshold: number };

/** Threshold policy: offload when the chosen confidence is below the threshold. */
export function decide(
  confidence: Readonly<Record<ConfidenceMeasure, number>>,
  policy: PolicyConfig,
): Decision {
  switch (policy.kind) {
    case 'threshold': {
      const { measure, threshold } = policy;
      const value = confidence[measure];
      const v = value.toFixed(3);
      return value < threshold
        ? { kind: 'offload', reason: `${measure} ${v} < ${threshold}`, measure, value, threshold }
        : { kind: 'local', reason: `${measure} ${v} >= ${threshold}`, measure, value, threshold };
    }
  }
}
