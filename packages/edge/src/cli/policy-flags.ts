import type { PayloadConfig, PolicyConfig } from '@squeezegate/shared';

/** parseArgs option specs for choosing a policy and payload, shared by every CLI that runs agents. */
export const POLICY_FLAGS = {
  policy: { type: 'string' },
  measure: { type: 'string' },
  threshold: { type: 'string' },
  temperature: { type: 'string' },
  target: { type: 'string' },
  burst: { type: 'string' },
  'bytes-per-second': { type: 'string' },
  'burst-bytes': { type: 'string' },
  payload: { type: 'string' },
  codec: { type: 'string' },
  quality: { type: 'string' },
  'fusion-weight': { type: 'string' },
} as const;

export const POLICY_HELP = `Offload policy:
  --policy <kind>          threshold | learned | rate | budget | never | always (default threshold)
  --measure <m>            maxProb | margin | entropy | calibrated (default maxProb)
  --threshold <t>          threshold: offload when confidence < t (default 0.85);
                           learned: when the deferral score >= t (default 0.5); budget: the
                           wanting bar
  --temperature <T>        softmax temperature for the calibrated measure (default 1)
  --target <f>             rate: the offload fraction to hold (default 0.3)
  --burst <n>              rate: offloads allowed above the share in a burst (default 3)
  --bytes-per-second <n>   budget: uplink bytes per second
  --burst-bytes <n>        budget: bucket size (default 2 s of budget)
  --payload <kind>         crop | frame | original: what an offloaded frame sends (default crop)
  --codec <c>              webp | jpeg: how crop/frame payloads are encoded (default webp)
  --quality <q>            their quality, 1-100 on the codec's own scale (default 80)
  --fusion-weight <w>      an offloaded frame's answer: the cloud's top 5 re-ranked by
                           log p_cloud + w · log p_edge (default 0.25; 0: the cloud's top-1)
`;

type Values = Record<string, unknown>;
const num = (v: unknown) => (v === undefined ? undefined : Number(v));

/** Keys of each policy kind that flags can set. */
const KEYS: Record<PolicyConfig['kind'], readonly string[]> = {
  threshold: ['measure', 'threshold', 'temperature'],
  learned: ['threshold'],
  rate: ['target', 'measure', 'temperature', 'burst'],
  budget: ['bytesPerSecond', 'burstBytes', 'measure', 'temperature', 'threshold'],
  never: [],
  always: [],
};

/**
 * The policy section from flags, laid over a base (e.g. a calibrated config file) when the kind
 * is the same. Unvalidated: the config schema checks it, listing every problem.
 */
export function policyFromFlags(
  values: Values,
  base?: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const fromFlags: Record<string, unknown> = {
    measure: values.measure,
    threshold: num(values.threshold),
    temperature: num(values.temperature),
    target: num(values.target),
    burst: num(values.burst),
    bytesPerSecond: num(values['bytes-per-second']),
    burstBytes: num(values['burst-bytes']),
  };
  const kind = (values.policy as string | undefined) ?? (base?.kind as string | undefined) ?? 'threshold';
  const keys = KEYS[kind as PolicyConfig['kind']] ?? [];
  const picked = Object.fromEntries(
    keys.filter((k) => fromFlags[k] !== undefined).map((k) => [k, fromFlags[k]]),
  );
  const sameKind = base !== undefined && base.kind === kind;
  if (!sameKind && Object.keys(picked).length === 0 && values.policy === undefined) return base;
  return { ...(sameKind ? base : {}), kind, ...picked };
}

export function payloadFromFlags(
  values: Values,
  base?: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const over = Object.fromEntries(
    Object.entries({ kind: values.payload, codec: values.codec, quality: num(values.quality) }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return Object.keys(over).length === 0 ? base : { ...base, ...over };
}

/** The fusion section from `--fusion-weight` over a base (a config file's). */
export function fusionFromFlags(
  values: Values,
  base?: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const w = num(values['fusion-weight']);
  return w === undefined ? base : { ...base, edgeWeight: w };
}

/** One line describing a policy, for summaries. */
export function describePolicy(policy: PolicyConfig, payload?: PayloadConfig): string {
  const sends = payload
    ? `, sends ${payload.kind}${payload.kind === 'original' ? '' : ` ${payload.codec} q${payload.quality}`}`
    : '';
  switch (policy.kind) {
    case 'threshold':
      return `offload when ${policy.measure}${policy.measure === 'calibrated' ? ` (T=${policy.temperature.toFixed(2)})` : ''} < ${policy.threshold}${sends}`;
    case 'learned':
      return `learned deferral rule, offload when score >= ${policy.threshold}${sends}`;
    case 'rate':
      return `hold ${policy.target} of frames offloaded, by ${policy.measure}${sends}`;
    case 'budget':
      return `${policy.bytesPerSecond} B/s byte budget, least ${policy.measure} first${sends}`;
    case 'never':
      return 'never offload (edge only)';
    case 'always':
      return `always offload (cloud only)${sends}`;
  }
}
