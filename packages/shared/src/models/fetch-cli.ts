#!/usr/bin/env node
// `npm run models:fetch`: fills the models directory from the manifest's upstream URLs.
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { DETECTORS } from '../detection/catalog.ts';
import { ALL_FILES, LABEL_FILE, MODELS } from './catalog.ts';
import { fetchModels } from './fetch.ts';
import { resolveModelsDir } from './resolve.ts';

const HELP = `Usage: npm run models:fetch -- [options]

Downloads missing or corrupted model and label files, checking size and sha256.

Options:
  --models-dir <dir>   target directory (default: $SQUEEZEGATE_MODELS_DIR, else ./models)
  --mirror <url>       base URL tried first for every file ($SQUEEZEGATE_MODELS_MIRROR)
  --only <ids>         comma-separated model or detector ids (default: all)
  -h, --help

Examples:
  npm run models:fetch
  npm run models:fetch -- --mirror https://models.example.org/squeezegate --only squeezenet1.1
`;

const { values } = parseArgs({
  options: {
    'models-dir': { type: 'string' },
    mirror: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const modelsDir = resolveModelsDir({
  configured: values['models-dir'] ?? process.env.SQUEEZEGATE_MODELS_DIR,
});
const only = values.only ? [...new Set(values.only.split(',').map((s) => s.trim()))] : undefined;
const models = only ? MODELS.filter((m) => only.includes(m.id)) : MODELS;
const detectors = only ? DETECTORS.filter((d) => only.includes(d.id)) : DETECTORS;
// A classifier's output is read through the ImageNet labels, a detector's through its own.
const files = only
  ? [...models, ...(models.length > 0 ? [LABEL_FILE] : []), ...detectors.flatMap((d) => [d, d.labels])]
  : ALL_FILES;
if (only && models.length + detectors.length !== only.length) {
  const known = [...MODELS, ...DETECTORS].map((m) => m.id).join(', ');
  process.stderr.write(`unknown model id in --only; known: ${known}\n`);
  process.exit(2);
}

const bars = new cliProgress.MultiBar(
  {
    format: ' {bar} {percentage}% | {file}',
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
  },
  cliProgress.Presets.shades_classic,
);
const active = new Map<string, cliProgress.SingleBar>();
const outcomes = await fetchModels({
  modelsDir,
  files,
  mirror: values.mirror ?? process.env.SQUEEZEGATE_MODELS_MIRROR,
  onProgress: ({ file, received, total }) => {
    let bar = active.get(file);
    if (!bar) {
      bar = bars.create(total, 0, { file });
      active.set(file, bar);
    }
    bar.update(received);
  },
});
bars.stop();
let failed = 0;
for (const o of outcomes) {
  if (o.status === 'failed') {
    failed++;
    process.stderr.write(`✗ ${o.file}: ${o.error.message}\n`);
  } else {
    process.stderr.write(
      `✓ ${o.file} ${o.status === 'present' ? '(already present, checksum ok)' : `from ${o.url}`}\n`,
    );
  }
}
process.stderr.write(`${modelsDir}: ${outcomes.length - failed} ok, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
