import { parseArgs } from 'node:util';
import {
  CONFIDENCE_MEASURES,
  type FusionConfig,
  FusionSchema,
  MODEL_IDS,
  type ModelId,
  PayloadSchema,
  type PrivacyConfig,
  PrivacySchema,
  readConfigFile,
  resolveModelsDir,
} from '@squeezegate/shared';
import {
  CALIBRATION_METHODS,
  type CalibrateOptions,
  type CalibrationMethod,
  type CalibrationReport,
  type CalibrationTarget,
} from '../evaluation/calibrate.ts';
import { agentVariant, type CloudVariant } from '../evaluation/predictions.ts';
import { type Scorer, SIGNAL_SCORERS } from '../evaluation/scorers.ts';
import { fusionFromFlags } from './policy-flags.ts';
import { privacyFromFlags } from './task-flags.ts';

export const CALIBRATE_HELP = `Usage: squeezegate-edge calibrate --target keep:<x>|offload:<y> [options]

Chooses an offload threshold (or fits the learned rule) on one part of a labelled image set and
reports what it achieves on the held-out part, with 95 % bootstrap intervals; then repeats over
random splits to show how often the target holds. The cloud is scored on what the agent would
send: the payload cut, redacted (faces, masks) and encoded by the agent's own code, with the
payload and privacy of --config and the flags (the agent's defaults otherwise: faces pixelated),
and its answer fused with the edge's as the agent does. Writes a config fragment (policy,
payload, privacy, fusion) the agent loads with --config. Needs both
models (edge and cloud) and the face search; inference results are cached.

Options (environment variable in brackets):
  --target <t>          keep:0.99 = keep at least 99 % of cloud-only top-1;
                        offload:0.3 = offload at most 30 % of frames
  --dataset <dir>       labelled images (manifest.csv) [SQUEEZEGATE_DATASET_DIR]
  --config <file>       the agent's config (or a fragment): its payload and privacy are used
  --measure <m>         maxProb | margin | entropy | calibrated | learned (default maxProb);
                        or a rule that also reads extra edge passes: alt (the top-1's probability
                        averaged with the Deep Compression SqueezeNet's for that class; one more
                        model run per frame), flip (the same with a mirrored view), flip+alt,
                        learned+flip, learned+alt, learned+flip+alt, learned+agree
  --payload <kind>      crop | frame | original; default: the config's, else try the agent's
                        default (crop webp q80) and original, keep the one meeting the target
                        with the fewest bytes
  --codec <c>           webp | jpeg for crop/frame payloads (default webp)
  --quality <q>         their quality, on the codec's own scale (default 80)
  --faces <mode>        pixelate | blur | withhold | off, as the agent (default pixelate)
  --face-model <id>     the face search, as the agent (default yunet-s+ultraface-rfb320)
  --fusion-weight <w>   the edge's weight in an offloaded frame's answer, as the agent (default 0.25)
  --holdout <f>         held-out fraction (default 0.5)
  --method <m>          ltt (Learn then Test: thresholds tested in order from the safe end,
                        the held-out half's own noise counted; default) | bootstrap (the first
                        method: a widened bootstrap bound) | crc (conformal risk control: the
                        target holds on average, not on most held-out sets)
  --confidence <c>      the share of held-out sets of the held-out size on which the target must
                        hold (default 0.98)
  --splits <n>          random splits for the robustness check (default 200)
  --seed <n>            (default 1)
  --limit <n>           use only the first n images
  --model <id>          edge model (default squeezenet1.1)
  --models-dir <dir>    [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --cache-dir <dir>     inference cache (default .cache/squeezegate)
  --out <file>          write the config fragment here (default: stdout)
  --json <file>         write the whole report as JSON
  -h, --help

Examples:
  squeezegate-edge calibrate --dataset ../shared/datasets/imagenet-sample --target keep:0.97 --out policy.json
  squeezegate-edge calibrate --target offload:0.3 --measure learned --payload crop
  squeezegate-edge --config policy.json --source /var/frames --token ...
`;

export interface CalibrateCli {
  dataset: string;
  /** The agent's privacy: what the payloads go through, and what the fragment pins. */
  privacy: PrivacyConfig;
  /** How the agent fuses an offloaded frame's answer: scored so, and pinned in the fragment. */
  fusion: FusionConfig;
  modelsDir: string;
  edgeModel: ModelId;
  cacheDir: string;
  limit: number | undefined;
  out: string | undefined;
  json: string | undefined;
  options: Omit<CalibrateOptions, 'predictions'>;
}

export type CalibrateParse =
  | { ok: true; cli: CalibrateCli }
  | { ok: false; issues: string[] }
  | { ok: 'help' };

/** What calibrate can fit; a rule on pooled activations has no policy the agent could run. */
const SCORERS: readonly Scorer[] = [
  ...CONFIDENCE_MEASURES,
  'learned',
  ...SIGNAL_SCORERS.filter((s) => s !== 'learned+pooled'),
];

/** Scorers that read the extra edge passes (a mirrored view, the alt model): the set needs them. */
export const needsSignals = (scorer: Scorer) => (SIGNAL_SCORERS as readonly string[]).includes(scorer);

export async function parseCalibrateArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CalibrateParse> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        target: { type: 'string' },
        dataset: { type: 'string' },
        config: { type: 'string' },
        faces: { type: 'string' },
        'face-model': { type: 'string' },
        'fusion-weight': { type: 'string' },
        measure: { type: 'string' },
        method: { type: 'string' },
        payload: { type: 'string' },
        codec: { type: 'string' },
        quality: { type: 'string' },
        holdout: { type: 'string' },
        confidence: { type: 'string' },
        splits: { type: 'string' },
        seed: { type: 'string' },
        limit: { type: 'string' },
        model: { type: 'string' },
        'models-dir': { type: 'string' },
        'cache-dir': { type: 'string' },
        out: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { ok: false, issues: [(err as Error).message] };
  }
  if (values.help) return { ok: 'help' };
  const s = (k: string) => values[k] as string | undefined;
  const issues: string[] = [];
  const number = (k: string, fallback: number, check: (n: number) => boolean, what: string) => {
    const raw = s(k);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!check(n)) issues.push(`--${k}: ${what}, got "${raw}"`);
    return n;
  };
  const match = /^(keep|offload):([0-9.]+)$/.exec(s('target') ?? '');
  const fraction = match ? Number(match[2]) : Number.NaN;
  if (!match || !(fraction > 0 && fraction <= 1))
    issues.push('--target: keep:<fraction> or offload:<fraction>, e.g. keep:0.99');
  const target = { kind: (match?.[1] ?? 'keep') as CalibrationTarget['kind'], fraction };
  const scorer = (s('measure') ?? 'maxProb') as Scorer;
  if (!SCORERS.includes(scorer)) issues.push(`--measure: one of ${SCORERS.join(', ')}`);
  let file: Record<string, unknown> = {};
  if (s('config') !== undefined) {
    const read = await readConfigFile(s('config')!);
    if (read.ok) file = read.value;
    else issues.push(...read.issues);
  }
  const privacyParsed = PrivacySchema.safeParse(
    privacyFromFlags(values, file.privacy as Record<string, unknown> | undefined) ?? {},
  );
  if (!privacyParsed.success)
    issues.push(...privacyParsed.error.issues.map((i) => `privacy.${i.path.join('.')}: ${i.message}`));
  const privacy = privacyParsed.success ? privacyParsed.data : PrivacySchema.parse({});
  const fusionParsed = FusionSchema.safeParse(
    fusionFromFlags(values, file.fusion as Record<string, unknown> | undefined) ?? {},
  );
  if (!fusionParsed.success) issues.push('--fusion-weight: a number in [0, 4]');
  const fusion = fusionParsed.success ? fusionParsed.data : FusionSchema.parse({});
  // The config's payload, or the agent's default and the whole frame; each as the agent sends it.
  const filePayload = file.payload as Record<string, unknown> | undefined;
  const flagged = s('payload') !== undefined || s('codec') !== undefined || s('quality') !== undefined;
  const payload = PayloadSchema.safeParse({
    ...filePayload,
    ...Object.fromEntries(
      Object.entries({
        kind: s('payload'),
        codec: s('codec'),
        quality: s('quality') === undefined ? undefined : Number(s('quality')),
      }).filter(([, v]) => v !== undefined),
    ),
  });
  let variants: CloudVariant[] = [];
  if (!payload.success)
    issues.push('--payload: crop | frame | original (with --codec webp|jpeg, --quality 1..100)');
  else if (flagged || filePayload !== undefined) variants = [agentVariant(payload.data, privacy)];
  else
    variants = [
      agentVariant(payload.data, privacy),
      agentVariant({ ...payload.data, kind: 'original' }, privacy),
    ];
  const method = (s('method') ?? 'ltt') as CalibrationMethod;
  if (!CALIBRATION_METHODS.includes(method))
    issues.push(`--method: one of ${CALIBRATION_METHODS.join(', ')}`);
  const model = (s('model') ?? 'squeezenet1.1') as ModelId;
  if (!MODEL_IDS.includes(model)) issues.push(`--model: one of ${MODEL_IDS.join(', ')}`);
  const dataset = s('dataset') ?? env.SQUEEZEGATE_DATASET_DIR;
  if (!dataset) issues.push('--dataset: a labelled image directory is required (or SQUEEZEGATE_DATASET_DIR)');
  const cli: CalibrateCli = {
    dataset: dataset ?? '',
    privacy,
    fusion,
    modelsDir: resolveModelsDir({ configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR }),
    edgeModel: model,
    cacheDir: s('cache-dir') ?? '.cache/squeezegate',
    limit:
      s('limit') === undefined
        ? undefined
        : number('limit', 0, (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    out: s('out'),
    json: s('json'),
    options: {
      target,
      scorer,
      variants,
      heldOutFraction: number('holdout', 0.5, (n) => n > 0 && n < 1, 'between 0 and 1'),
      method,
      confidence: number('confidence', 0.98, (n) => n >= 0.5 && n < 1, 'in [0.5, 1)'),
      splits: number('splits', 200, (n) => Number.isInteger(n) && n >= 0, 'a whole number'),
      seed: number('seed', 1, Number.isInteger, 'an integer'),
    },
  };
  return issues.length ? { ok: false, issues } : { ok: true, cli };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

/** The report in words, for a terminal. */
export function formatCalibration(r: CalibrationReport): string {
  const t =
    r.target.kind === 'keep'
      ? `keep ≥ ${pct(r.target.fraction)} of cloud-only top-1`
      : `offload ≤ ${pct(r.target.fraction)}`;
  const h = r.heldOut;
  const lines = [
    `target            ${t}`,
    `method            ${r.method}`,
    `rule              ${r.scorer}, payload ${r.variant === 'captured' ? 'original' : r.variant.replace('+', ', redacted ')}`,
    `policy            ${JSON.stringify(r.fragment.policy.kind === 'learned' ? { kind: 'learned', threshold: r.fragment.policy.threshold } : r.fragment.policy)}`,
    `frames            ${r.calibrationFrames} to choose, ${r.heldOutFrames} held out`,
    `held-out offload  ${pct(h.offloadFraction.value)} (95 % CI ${pct(h.offloadFraction.lo)} – ${pct(h.offloadFraction.hi)})`,
    `held-out kept     ${pct(h.keptOfCloud.value)} of cloud-only (95 % CI ${pct(h.keptOfCloud.lo)} – ${pct(h.keptOfCloud.hi)}): cascade ${pct(h.cascadeTop1)}, cloud-only ${pct(h.cloudTop1)}`,
    `held-out bytes    ${pct(h.bytesRatio)} of sending every frame as captured`,
    `target met        ${h.met ? 'yes' : 'NO'} on this split; on ${pct(r.robustness.metFraction)} of ${r.robustness.splits} random splits (mean offload ${pct(r.robustness.offloadMean)}${r.robustness.unreachable ? `; ${r.robustness.unreachable} found no threshold` : ''})`,
  ];
  if (r.temperature) {
    lines.push(
      `temperature       T = ${r.temperature.value.toFixed(3)}; held-out ECE ${r.temperature.eceBefore.toFixed(4)} → ${r.temperature.eceAfter.toFixed(4)}`,
    );
  }
  return `${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
