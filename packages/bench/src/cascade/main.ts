#!/usr/bin/env node
// `npm run bench:cascade`: the trade-off bench of every offload policy, measure and payload.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { agentVariant, type CloudVariant, predictDatasetWithSignals, SourceError } from '@squeezegate/edge';
import { ModelLoadError, PayloadSchema, PRIVACY_DEFAULTS } from '@squeezegate/shared';
import cliProgress from 'cli-progress';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish, relativeLink } from '../publish.ts';
import { analyse, payloadName } from './analysis.ts';
import { cascadeConfigFromCli } from './config.ts';
import { analyseFusion, fusionMarkdown } from './fusion.ts';
import {
  cascadeHeadline,
  deferralHeadline,
  signalsMarkdown,
  toChartSvg,
  toCsv,
  toMarkdown,
  toSignalsCsv,
} from './report.ts';
import { analyseSignals } from './signals.ts';

const cli = await cascadeConfigFromCli(process.argv.slice(2), process.env);
if (cli.kind === 'exit') {
  process.stdout.write(cli.stdout);
  process.stderr.write(cli.stderr);
  process.exit(cli.code);
}
const { dataset, out, prices, fps, limit, doc, readme } = cli.config;

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const round6 = (_: string, v: unknown) =>
  typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v;

const AGENT_DEFAULT = agentVariant(PayloadSchema.parse({}), PRIVACY_DEFAULTS);
// JPEG (q85 was the first default), then the codecs and sizes tried for the default (issue 16).
const VARIANTS: CloudVariant[] = [
  'captured',
  'frame-q85',
  'crop-q95',
  'crop-q90',
  'crop-q85',
  'crop-q75',
  'crop-q50',
  'frame-webp-q90',
  'crop-webp-q95',
  'crop-webp-q90',
  'crop-webp-q85',
  'crop-webp-q80',
  'crop-webp-q70',
  'crop-avif-q90',
  'crop-avif-q80',
  'crop-avif-q70',
  'crop-avif-q60',
  'crop-avif-q50',
  // The agent's default payload as it leaves: faces searched and pixelated by its own code.
  AGENT_DEFAULT,
];
const machine = machineInfo();
process.stderr.write(`machine: ${describeMachine(machine)}\n`);

const bar = new cliProgress.SingleBar(
  { format: ' inference {bar} {value}/{total} frames', stream: process.stderr, hideCursor: true },
  cliProgress.Presets.shades_classic,
);
try {
  const started = performance.now();
  // With the richer edge signals of issue 16 §2 (flip, alt model, pooled activations), cached
  // like the predictions; their extra edge ms are timed on up to 200 frames in this run.
  const set = await predictDatasetWithSignals({
    timeFrames: 200,
    pooled: true,
    dir: dataset,
    modelsDir: cli.config.modelsDir,
    variants: VARIANTS,
    privacy: PRIVACY_DEFAULTS,
    cacheDir: cli.config.cacheDir,
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
  const signals = analyseSignals(set.predictions, { cost: set.cost });
  const fusion = analyseFusion(set.predictions, {
    variants: ['crop-webp-q80', AGENT_DEFAULT],
    payloadName,
  });
  const command = `npm run bench:cascade -- ${process.argv.slice(2).join(' ')}`.trim();
  const table = `${toMarkdown(results, { machine, prices, command })}\n${signalsMarkdown(signals, { altModel: set.altModel })}\n${fusionMarkdown(fusion)}`;
  const chart = await toChartSvg(results);
  await mkdir(out, { recursive: true });
  const { rows, ...summary } = results;
  // Every sweep row is in results.csv, once; the JSON keeps the summary and names the CSV.
  const json = {
    machine,
    command,
    prices,
    fps,
    edgeModel: set.edgeModel,
    cloudModel: set.cloudModel,
    altModel: set.altModel,
  };
  const { curves, ...signalSummary } = signals;
  await writeFile(
    path.join(out, 'results.json'),
    `${JSON.stringify({ ...json, skipped: set.skipped, ...summary, signals: { ...signalSummary, curves: 'signals.csv' }, fusion, rows: 'results.csv' }, round6, 2)}\n`,
  );
  await writeFile(path.join(out, 'results.csv'), toCsv(rows));
  await writeFile(path.join(out, 'signals.csv'), toSignalsCsv(curves));
  await writeFile(path.join(out, 'table.md'), table);
  await writeFile(path.join(out, 'chart.svg'), chart);
  const chartRef = relativeLink(doc ?? path.join(out, 'table.md'), path.join(out, 'chart.svg'));
  const written = await publish({
    bench: 'cascade',
    section: `![cascade top-1 against offload fraction](${chartRef})\n\n${table}`,
    headline: [...cascadeHeadline(results), ...deferralHeadline(signals, fusion)],
    date: machine.date.slice(0, 10),
    doc,
    readme,
    fallbackLink: path.join(out, 'table.md'),
  });
  process.stdout.write(`${table}\n`);
  process.stderr.write(
    `inference pass ${(inferenceMs / 1000).toFixed(1)} s (cached after the first run); results in ${out}/${written.length ? `; refreshed ${written.join(', ')}` : ''}\n`,
  );
} catch (err) {
  bar.stop();
  if (err instanceof ModelLoadError) fail(3, err.message);
  if (err instanceof SourceError) fail(4, err.message);
  fail(1, `bench failed: ${(err as Error).stack ?? String(err)}`);
}
