import { definedOnly, numberOrUndefined } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, datasetAndModels, readBenchCli } from '../cli.ts';
import { publishProblems } from '../publish.ts';

export const CASCADE_HELP = `Usage: npm run bench:cascade -- [options]

One inference pass of the edge and cloud models over a labelled set (cached per model and image,
so a re-run only sweeps), then every policy and measure swept against the baselines.

Options (environment variable in brackets):
  --dataset <dir>     labelled images [SQUEEZEGATE_DATASET_DIR]
  --out <dir>         where results.csv, results.json, table.md, chart.svg go (default bench-results/cascade)
  --models-dir <dir>  [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --cache-dir <dir>   inference cache (default .cache/squeezegate)
  --limit <n>         only the first n images
  --fps <n>           capture rate the rate/budget policies are simulated at (default 10)
  --price-gb <usd>    uplink price per GB (default 2, cellular IoT)
  --price-1k <usd>    price per 1000 cloud inferences (default 0.1)
  --doc <file>        refresh this bench's section of a docs file (between <!-- bench:cascade:start -->
                      and <!-- bench:cascade:end -->)
  --readme <file>     refresh this bench's rows of the README's headline table
${COMMON_HELP}

Examples:
  npm run bench:cascade -- --dataset ../shared/datasets/imagenet-sample
  npm run bench:cascade -- --dataset ../shared/datasets/imagenet-sample --out docs/bench/cascade \\
    --doc docs/benchmarks.md --readme README.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options, 3 model files missing or corrupt,
4 dataset unreadable.
`;

const Positive = z.number().positive();

export const CascadeBenchSchema = z
  .object({
    dataset: z.string().min(1, 'no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR'),
    out: z.string().min(1).default('bench-results/cascade'),
    modelsDir: z.string().min(1),
    cacheDir: z.string().min(1).default('.cache/squeezegate'),
    limit: z.number().int().positive().optional(),
    fps: Positive.default(10),
    prices: z
      .object({ perGb: Positive.default(2), per1kInferences: Positive.default(0.1) })
      .strict()
      .default({ perGb: 2, per1kInferences: 0.1 }),
    doc: z.string().min(1).optional(),
    readme: z.string().min(1).optional(),
  })
  .strict();
export type CascadeBenchConfig = z.infer<typeof CascadeBenchSchema>;

/** The cascade bench's settings from flags over environment variables over a config file. */
export function cascadeConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<BenchCli<CascadeBenchConfig>> {
  return readBenchCli({
    name: 'bench:cascade',
    help: CASCADE_HELP,
    argv,
    schema: CascadeBenchSchema,
    flags: {
      dataset: { type: 'string' },
      out: { type: 'string' },
      'models-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
      limit: { type: 'string' },
      fps: { type: 'string' },
      'price-gb': { type: 'string' },
      'price-1k': { type: 'string' },
      doc: { type: 'string' },
      readme: { type: 'string' },
    },
    raw: (flag, file) => ({
      ...file,
      ...definedOnly({
        ...datasetAndModels(flag, env, file),
        out: flag('out'),
        cacheDir: flag('cache-dir'),
        limit: numberOrUndefined(flag('limit')),
        fps: numberOrUndefined(flag('fps')),
        prices: {
          ...(file.prices as object | undefined),
          ...definedOnly({
            perGb: numberOrUndefined(flag('price-gb')),
            per1kInferences: numberOrUndefined(flag('price-1k')),
          }),
        },
        doc: flag('doc'),
        readme: flag('readme'),
      }),
    }),
    check: ({ doc, readme }) => publishProblems({ bench: 'cascade', doc, readme }),
  });
}
