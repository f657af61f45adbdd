#!/usr/bin/env node
// `npm run bench:cascade`: the trade-off bench of every offload policy, measure and payload.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type CloudVariant, predictDataset, SourceError } from '@squeezegate/edge';
import { ModelLoadError, resolveModelsDir } from '@squeezegate/shared';
import cliProgress from 'cli-progress';
import { describeMachine, machineInfo } from '../machine.ts';
import { analyse } from './analysis.ts';
import { spliceReadme, toChartSvg, toCsv, toMarkdown } from './report.ts';

const HELP = `Usage: npm run bench:cascade -- [options]

One inference pass of the edge and cloud models over a labelled set (cached per model and image,
so a re-run only sweeps), then every policy and measure swept against the baselines.

Options:
  --dataset <dir>        labelled images [SQUEEZEGATE_DATASET_DIR]
  --out <dir>            where results.csv, results.json, table.md, chart.svg go (default bench-results/cascade)
  --models-dir <dir>     [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --cache-dir <dir>      inference cache (default .cache/squeezegate)
  --limit <n>            only the first n images
  --fps <n>              capture rate the rate/budget policies are simulated at (default 10)
  --price-gb <usd>       uplink price per GB (default 2, cellular IoT)
  --price-1k <usd>       price per 1000 cloud inferences (default 0.1)
  --readme <file>        also refresh the bench section of this README
  -h, --help

Examples:
  npm run bench:cascade -- --dataset ../shared/datasets/imagenet-sample
  npm run bench:cascade -- --out docs/bench/cascade --readme README.md
`;

const round6 = (_: string, v: unknown) =>
  typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v;

const VARIANTS: CloudVariant[] = ['captured', 'frame-q85', 'crop-q95', 'crop-q85', 'crop-q75', 'crop-q50'];

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        dataset: { type: 'string' },
        out: { type: 'string' },
        'models-dir': { type: 'string' },
        'cache-dir': { type: 'string' },
        limit: { type: 'string' },
        fps: { type: 'string' },
        'price-gb': { type: 'string' },
        'price-1k': { type: 'string' },
        readme: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(2, `${(err as Error).message}\n\n${HELP}`);
  }
})();
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const dataset =
  values.dataset ??
  process.env.SQUEEZEGATE_DATASET_DIR ??
  fail(2, `no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR\n\n${HELP}`);
const positive = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return n > 0 ? n : fail(2, `--${name} must be a positive number, got "${raw}"`);
};
const out = values.out ?? 'bench-results/cascade';
const prices = {
  perGb: positive('price-gb', values['price-gb'], 2),
  per1kInferences: positive('price-1k', values['price-1k'], 0.1),
};
const fps = positive('fps', values.fps, 10);
const limit = values.limit === undefined ? undefined : positive('limit', values.limit, 0);
const machine = machineInfo();
process.stderr.write(`machine: ${describeMachine(machine)}\n`);

const bar = new cliProgress.SingleBar(
  { format: ' inference {bar} {value}/{total} frames', stream: process.stderr, hideCursor: true },
  cliProgress.Presets.shades_classic,
);
try {
  const started = performance.now();
  const set = await predictDataset({
    dir: dataset,
    modelsDir: resolveModelsDir({ configured: values['models-dir'] ?? process.env.SQUEEZEGATE_MODELS_DIR }),
    variants: VARIANTS,
    cacheDir: values['cache-dir'] ?? '.cache/squeezegate',
    limit,
    onProgress: (done, total) => {
      if (done === 1) bar.start(total, 0);
      bar.update(done);
    },
  });
  bar.stop();
  const inferenceMs = performance.now() - started;
  for (const s of set.skipped) process.stderr.write(`skipped ${s.name}: ${s.error}\n`);
  const results = analyse(set.predictions, { variants: VARIANTS, prices, fps });
  const command = `npm run bench:cascade -- ${process.argv.slice(2).join(' ')}`.trim();
  const table = toMarkdown(results, { machine, prices, command });
  const chart = await toChartSvg(results);
  await mkdir(out, { recursive: true });
  const { rows, ...summary } = results;
  await writeFile(
    path.join(out, 'results.json'),
    // Numbers to 6 decimals and the rows one per line keep the file readable and small.
    `${JSON.stringify(
      {
        machine,
        command,
        prices,
        fps,
        edgeModel: set.edgeModel,
        cloudModel: set.cloudModel,
        skipped: set.skipped,
        ...summary,
        rows: [],
      },
      round6,
      2,
    ).replace(
      '"rows": []',
      `"rows": [\n${rows.map((r) => `    ${JSON.stringify(r, round6)}`).join(',\n')}\n  ]`,
    )}\n`,
  );
  await writeFile(path.join(out, 'results.csv'), toCsv(rows));
  await writeFile(path.join(out, 'table.md'), table);
  await writeFile(path.join(out, 'chart.svg'), chart);
  if (values.readme) {
    const chartRef = path
      .relative(path.dirname(values.readme), path.join(out, 'chart.svg'))
      .split(path.sep)
      .join('/');
    const section = `![cascade top-1 against offload fraction](${chartRef})\n\n${table}`;
    await writeFile(values.readme, spliceReadme(await readFile(values.readme, 'utf8'), section));
  }
  process.stdout.write(`${table}\n`);
  process.stderr.write(
    `inference pass ${(inferenceMs / 1000).toFixed(1)} s (cached after the first run); results in ${out}/\n`,
  );
} catch (err) {
  bar.stop();
  if (err instanceof ModelLoadError) fail(3, err.message);
  if (err instanceof SourceError) fail(4, err.message);
  fail(1, `bench failed: ${(err as Error).stack ?? String(err)}`);
}
