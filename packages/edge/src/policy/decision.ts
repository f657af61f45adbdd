import type { ConfidenceMeasure, PolicyKind } from '@squeezegate/shared';
import type { EdgeExtras, ExtraNeeds } from './features.ts';

interface DecisionDetail {
  policy: PolicyKind;
  /** Human-readable, e.g. "maxProb 0.312 < 0.5". */
  reason: string;
  measure?: ConfidenceMeasure | 'learned';
  value?: number;
  threshold?: number;
  /**
   * Set when the gateway's fleet-wide bar decided (a `policy` message, issue 13 §5) rather than
   * the device's own policy: that bar's sequence number and the gateway's reason for it.
   */
  fleet?: { seq: number; reason: string };
}

/** Why a frame stays or goes; every frame's record carries one. */
export type Decision =
  | (DecisionDetail & { kind: 'offload' })
  | (DecisionDetail & {
      kind: 'local';
      /** The frame wanted to go but a rate or byte limit held it back. */
      held?: boolean;
    });

export interface PolicyInput {
  probs: Float32Array;
  /** Every confidence measure of `probs` (the calibrated one at the policy's temperature). */
  confidence: Readonly<Record<ConfidenceMeasure, number>>;
  /** The extra edge passes a learned rule reads (see `extraPassesFor`); absent when none. */
  extras?: EdgeExtras;
}

/** An offload policy; stateful ones (rate, budget) learn from what they decided and sent. */
export interface Policy {
  readonly kind: PolicyKind;
  /** Softmax temperature for the `calibrated` measure. */
  readonly temperature: number;
  /** The extra edge passes `decide` reads (a learned rule on flip/alt features); absent: none. */
  readonly extras?: ExtraNeeds;
  decide(input: PolicyInput, nowMs: number): Decision;
  /** Reports the bytes actually sent for a frame this policy let go. */
  spent(bytes: number): void;
}

export const fmt = (v: number) => v.toFixed(3);
