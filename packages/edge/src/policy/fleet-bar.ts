import type { PolicyMessage } from '@squeezegate/shared';
import { fmt, type Policy } from './decision.ts';

/** The gateway's fleet-wide offload bar as this device last heard it (issue 13 §5). */
export interface FleetBar {
  /** Takes a `policy` message; false when it is older than the one held (ignored). */
  apply(message: PolicyMessage, nowMs: number): boolean;
  /** The bar in force now: null when none was sent, it was lifted, or it expired. */
  active(nowMs: number): PolicyMessage | null;
}

export function createFleetBar(): FleetBar {
  let held: { message: PolicyMessage; until: number } | null = null;
  return {
    apply(message, nowMs) {
      // A reconnect to another replica starts its sequence afresh: an expired bar never blocks it.
      if (held && message.seq <= held.message.seq && nowMs < held.until) return false;
      held = { message, until: nowMs + message.ttlMs };
      return true;
    },
    active(nowMs) {
      if (!held || nowMs >= held.until || held.message.threshold === null) return null;
      return held.message;
    },
  };
}

/**
 * The device's own policy, overruled while a fleet bar holds: then a frame leaves when its
 * confidence (on the bar's measure) is below the bar, and the decision says so (`fleet` in the
 * frame record). Without a bar, or once it expires, the device's policy decides as before.
 */
export function underFleetBar(own: Policy, bar: FleetBar): Policy {
  // Who decided each offload, in order: only the device's own policy is told what it spent.
  const deciders: boolean[] = [];
  return {
    kind: own.kind,
    temperature: own.temperature,
    ...(own.extras ? { extras: own.extras } : {}),
    decide(input, nowMs) {
      const held = bar.active(nowMs);
      if (!held || held.threshold === null) {
        const decision = own.decide(input, nowMs);
        if (decision.kind === 'offload') deciders.push(true);
        return decision;
      }
      const { measure, threshold, seq } = held;
      const value = input.confidence[measure];
      const detail = { policy: own.kind, measure, value, threshold, fleet: { seq, reason: held.reason } };
      if (value < threshold) {
        deciders.push(false);
        return {
          kind: 'offload',
          ...detail,
          reason: `fleet bar: ${measure} ${fmt(value)} < ${fmt(threshold)}`,
        };
      }
      return { kind: 'local', ...detail, reason: `fleet bar: ${measure} ${fmt(value)} >= ${fmt(threshold)}` };
    },
    spent(bytes) {
      if (deciders.shift() ?? true) own.spent(bytes);
    },
  };
}
