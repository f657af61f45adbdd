import { definedOnly, numberOrUndefined } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, datasetAndModels, readBenchCli } from '../cli.ts';
import { publishProblems } from '../publish.ts';

export const CALIBRATION_HELP = `Usage: npm run bench:calibration -- [options]

How well each way of choosing the offload threshold keeps its promise (issue 16 §3): for every
method and confidence level, calibrate on one random half of the labelled set and check the other
half, over many splits (share of held-out halves meeting keep:0.99 and keep:0.97, mean offload);
then a threshold calibrated on clean images applied to a corrupted copy of the set (noise, blur,
low light, JPEG at low quality, pixelation; one per image, built once under the cache directory).
Both models run once per image (cached).

Options (environment variable in brackets):
  --dataset <dir>     labelled images [SQUEEZEGATE_DATASET_DIR]
  --out <dir>         where results.json and table.md go (default bench-results/calibration)
  --models-dir <dir>  [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --cache-dir <dir>   inference cache; the corrupted copy goes under it (default .cache/squeezegate)
  --limit <n>         only the first n images
  --splits <n>        random splits per method (default 200)
  --thresholds <n>    clean-calibrated thresholds applied to the corrupted set (default 50)
  --seed <n>          seed of the corrupted copy (default 1)
  --doc <file>        refresh this bench's section of a docs file (between
                      <!-- bench:calibration:start --> and <!-- bench:calibration:end -->)
${COMMON_HELP}

Example:
  npm run bench:calibration -- --dataset ../shared/datasets/imagenet-sample --out docs/bench/calibration \\
    --doc docs/benchmarks.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options, 3 model files missing or corrupt,
4 dataset unreadable.
`;

const Count = z.number().int().positive();

export const CalibrationBenchSchema = z
  .object({
    dataset: z.string().min(1, 'no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR'),
    out: z.string().min(1).default('bench-results/calibration'),
    modelsDir: z.string().min(1),
    cacheDir: z.string().min(1).default('.cache/squeezegate'),
    limit: Count.optional(),
    splits: Count.default(200),
    thresholds: Count.default(50),
    seed: z.number().int().default(1),
    doc: z.string().min(1).optional(),
  })
  .strict();
export type CalibrationBenchConfig = z.infer<typeof CalibrationBenchSchema>;

/** The calibration bench's settings from flags over environment variables over a config file. */
export function calibrationConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<BenchCli<CalibrationBenchConfig>> {
  return readBenchCli({
    name: 'bench:calibration',
    help: CALIBRATION_HELP,
    argv,
    schema: CalibrationBenchSchema,
    flags: {
      dataset: { type: 'string' },
      out: { type: 'string' },
      'models-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
      limit: { type: 'string' },
      splits: { type: 'string' },
      thresholds: { type: 'string' },
      seed: { type: 'string' },
      doc: { type: 'string' },
    },
    raw: (flag, file) => ({
      ...file,
      ...definedOnly({
        ...datasetAndModels(flag, env, file),
        out: flag('out'),
        cacheDir: flag('cache-dir'),
        limit: numberOrUndefined(flag('limit')),
        splits: numberOrUndefined(flag('splits')),
        thresholds: numberOrUndefined(flag('thresholds')),
        seed: numberOrUndefined(flag('seed')),
        doc: flag('doc'),
      }),
    }),
    check: ({ doc }) => publishProblems({ bench: 'calibration', doc }),
  });
}
