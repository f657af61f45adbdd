#!/usr/bin/env node
// `npm run bench:privacy`: the privacy audit of issue 15 as a user runs it. For each redaction
// (the default face search, the old single UltraFace-320, and none), each set (the face photos,
// people on a street) and each payload kind (classify original / frame / crop with every frame
// offloaded, and detect as `npm start --task detect` sends), `npm start --payload-dump` writes
// what left, and the audit looks for faces in it with the face models that redaction did not use.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type AuditReport,
  auditDump,
  defaultAuditorIds,
  packagedFfmpegPath,
  readDumpIndex,
  readNotFaces,
  summarizeAudit,
} from '@squeezegate/edge';
import { type Detector, definedOnly, openDetector, readCli, resolveModelsDir } from '@squeezegate/shared';
import { z } from 'zod';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish } from '../publish.ts';
import { prepareSets } from './sets.ts';
import { type PrivacyBenchResults, privacyHeadline, privacyTable, type RunRow } from './table.ts';

const HELP = `Usage: npm run bench:privacy -- [--out DIR] [--doc FILE] [--readme FILE]

Runs npm start with --payload-dump over the face photos and street frames for every payload kind
and redaction, audits each dump with the face models the redaction did not use, and writes
DIR/results.json and DIR/table.md (default docs/bench/privacy).
`;
const root = path.resolve(import.meta.dirname, '../../../..');
const Args = z.object({
  out: z.string().default('docs/bench/privacy'),
  doc: z.string().optional(),
  readme: z.string().optional(),
  dataset: z.string().default(path.resolve(root, '../shared/datasets/detection-sample')),
  video: z.string().default(path.resolve(root, '../shared/datasets/video-sample/vtest.avi')),
});
const cli = await readCli(process.argv.slice(2), {
  out: { type: 'string' },
  doc: { type: 'string' },
  readme: { type: 'string' },
  dataset: { type: 'string' },
  video: { type: 'string' },
});
if (cli.kind === 'help') {
  process.stdout.write(HELP);
  process.exit(0);
}
if (cli.kind === 'invalid') {
  process.stderr.write(`${cli.issues.join('\n')}\n\n${HELP}`);
  process.exit(2);
}
const args = Args.parse(definedOnly(cli.values));
const log = (line: string) => process.stderr.write(`${line}\n`);
const machine = machineInfo();
log(`machine: ${describeMachine(machine)}`);
const modelsDir = resolveModelsDir({ configured: process.env.SQUEEZEGATE_MODELS_DIR });
const ffmpeg = packagedFfmpegPath();
if (!ffmpeg) throw new Error('no ffmpeg: npm ci installs @ffmpeg-installer/ffmpeg');

/** The redactions compared: what ships, what shipped before issue 15, and none. */
const REDACTIONS = {
  default: [],
  'ultraface-rfb320 alone (before)': ['--face-model', 'ultraface-rfb320'],
  off: ['--faces', 'off'],
} as const;
const KINDS = {
  original: ['--policy', 'always', '--payload', 'original'],
  frame: ['--policy', 'always', '--payload', 'frame'],
  crop: ['--policy', 'always', '--payload', 'crop'],
  detect: ['--task', 'detect'],
} as const;

/** `npm start` (the demo's compiled CLI) over `dir` with its payloads dumped to `dump`. */
function npmStart(dir: string, dump: string, flags: readonly string[]): Promise<void> {
  const demo = path.join(root, 'packages/demo/dist/main.js');
  const argv = [demo, '--dataset', dir, '--edges', '1', '--payload-dump', dump, ...flags];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm start ${flags.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

const work = await mkdtemp(path.join(tmpdir(), 'sg-bench-privacy-'));
const detectors = new Map<string, Detector>();
async function auditor(id: string): Promise<Detector> {
  if (!detectors.has(id)) detectors.set(id, await openDetector({ id, modelsDir }));
  return detectors.get(id)!;
}
const THRESHOLD = 0.6;
const MIN_IOU = 0.3;
const started = performance.now();
try {
  const sets = await prepareSets({
    detectionImages: path.join(args.dataset, 'images'),
    video: args.video,
    ffmpeg,
    work,
  });
  const notFaces = await readNotFaces(
    path.join(root, 'packages/edge/test/audit/fixtures/vtest-not-faces.json'),
  );
  const runs: RunRow[] = [];
  for (const [redaction, redactionFlags] of Object.entries(REDACTIONS)) {
    for (const set of sets) {
      for (const [kind, kindFlags] of Object.entries(KINDS)) {
        const dump = path.join(work, `${redaction.split(' ')[0]}-${set.name}-${kind}`);
        await npmStart(set.dir, dump, [...kindFlags, ...redactionFlags]);
        const ids = defaultAuditorIds(await readDumpIndex(dump));
        const auditors = await Promise.all(
          ids.map(async (id) => ({ detector: await auditor(id), threshold: THRESHOLD })),
        );
        const { payloads, unaudited } = await auditDump({
          dumpDir: dump,
          sourceDir: set.dir,
          auditors,
          minIou: MIN_IOU,
          notFaces,
        });
        const report: AuditReport = summarizeAudit(payloads, {
          dump,
          source: set.dir,
          auditors: ids.map((id) => ({ id, threshold: THRESHOLD })),
          minIou: MIN_IOU,
          unaudited,
        });
        runs.push({
          redaction,
          set: set.name,
          kind,
          auditors: ids,
          report: { ...report, dump: '', source: '' },
        });
        log(
          `${redaction} · ${set.name} · ${kind}: ${report.total.leaked} of ${report.total.faces} faces leaked (${ids.join(', ')})`,
        );
      }
    }
  }
  const command = `npm run bench:privacy -- ${process.argv.slice(2).join(' ')}`.trim();
  const results: PrivacyBenchResults = {
    machine,
    command,
    runtimeS: (performance.now() - started) / 1000,
    threshold: THRESHOLD,
    minIou: MIN_IOU,
    runs,
  };
  const table = privacyTable(results);
  await mkdir(args.out, { recursive: true });
  await writeFile(path.join(args.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(args.out, 'table.md'), table);
  await publish({
    bench: 'privacy',
    section: table,
    headline: privacyHeadline(results),
    date: machine.date.slice(0, 10),
    doc: args.doc,
    readme: args.readme,
    fallbackLink: path.join(args.out, 'table.md'),
  });
  process.stdout.write(`${table}\n`);
} finally {
  for (const d of detectors.values()) await d.close();
  await rm(work, { recursive: true, force: true });
}
