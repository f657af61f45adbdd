// Issue 16 §4: the promise `calibrate` makes holds where it is used. Calibrate on one half of a
// slice of the sample set with the agent's default privacy; `npm start --config <fragment>` on the
// other half must keep what it promised, within its interval, and send exactly the payloads that
// calibrate scored.
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { agentVariant, predictDataset, withFusion } from '@squeezegate/edge';
import { PayloadSchema, PrivacySchema } from '@squeezegate/shared';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runNode, userEnv } from '../support/cli.ts';
import { datasetDir, haveRealModels, modelsDir, repoRoot } from '../support/env.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');
const DEMO = path.join(repoRoot, 'packages/demo/dist/main.js');
const SLICE = 400;

/** A labelled folder of some of the sample's images (copies) with their manifest rows. */
async function subset(dir: string, header: string, rows: string[][]) {
  await mkdir(dir, { recursive: true });
  const quote = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  await writeFile(
    path.join(dir, 'manifest.csv'),
    `${header}\n${rows.map((r) => r.map(quote).join(',')).join('\n')}\n`,
  );
  for (const r of rows) await copyFile(path.join(datasetDir, r[0]!), path.join(dir, r[0]!));
}

describe.skipIf(!haveRealModels)('calibrate, then npm start with its fragment', () => {
  it('keeps what calibrate promised, within its interval, sending what calibrate scored', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'sg-promise-'));
    const cache = path.join(work, 'cache');
    const text = await readFile(path.join(datasetDir, 'manifest.csv'), 'utf8');
    const [head, ...rows] = parse(text) as string[][];
    const slice = rows.slice(0, SLICE);
    // One class per image in the sample: alternate rows give two halves of 200 classes each.
    const calDir = path.join(work, 'calibrate');
    const useDir = path.join(work, 'use');
    await subset(
      calDir,
      head!.join(','),
      slice.filter((_, i) => i % 2 === 0),
    );
    await subset(
      useDir,
      head!.join(','),
      slice.filter((_, i) => i % 2 === 1),
    );
    const env = userEnv();

    const fragment = path.join(work, 'calibrated.json');
    const reportFile = path.join(work, 'report.json');
    const cal = await runNode(
      [
        EDGE,
        'calibrate',
        '--dataset',
        calDir,
        '--target',
        // A 150-frame calibration half with a redacted payload certifies no more than this.
        'keep:0.85',
        '--payload',
        'crop',
        '--splits',
        '20',
        '--cache-dir',
        cache,
        '--out',
        fragment,
        '--json',
        reportFile,
      ],
      env,
    );
    expect(cal.code, cal.stderr).toBe(0);
    const written = JSON.parse(await readFile(fragment, 'utf8'));
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    // The fragment pins the privacy the promise was measured with: the agent's default.
    const privacy = PrivacySchema.parse(written.privacy);
    expect(privacy.faces).toBe('pixelate');
    expect(report.variant).toBe(agentVariant(PayloadSchema.parse(written.payload), privacy));

    expect(written.fusion).toEqual({ edgeWeight: 0.25 });
    const summaryFile = path.join(work, 'summary.json');
    const recordsFile = path.join(work, 'records.jsonl');
    const dump = path.join(work, 'dump');
    const run = await runNode(
      [
        DEMO,
        '--dataset',
        useDir,
        '--config',
        fragment,
        '--edges',
        '1',
        '--json',
        summaryFile,
        '--records',
        recordsFile,
        '--payload-dump',
        dump,
        '--log-level',
        'error',
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(await readFile(summaryFile, 'utf8'));
    expect(summary.faces).toBe('pixelate');
    expect(summary.failed).toBe(0);
    const kept = summary.cascadeTop1 / summary.cloudTop1;
    const promised = report.heldOut.keptOfCloud;
    // The promise is a floor: the target itself, and the held-out estimate's lower bound.
    expect(kept, JSON.stringify({ kept, promised })).toBeGreaterThanOrEqual(report.target.fraction);
    expect(kept).toBeGreaterThanOrEqual(promised.lo);
    expect(summary.offloadRate).toBeGreaterThanOrEqual(report.heldOut.offloadFraction.lo - 0.1);
    expect(summary.offloadRate).toBeLessThanOrEqual(report.heldOut.offloadFraction.hi + 0.1);

    // What left is what calibrate scores: the same payloads, byte for byte in size (checked on
    // the first 60 frames: the face search is the slow part).
    const variant = report.variant;
    const scored = await predictDataset({
      dir: useDir,
      modelsDir,
      variants: [variant],
      privacy,
      cacheDir: cache,
      limit: 60,
    });
    const bytesByName = new Map(scored.predictions.map((p) => [p.name, p.cloud[variant]!.bytes]));
    const sent = (await readFile(path.join(dump, 'payloads.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; bytes: number });
    expect(sent.length).toBe(summary.offloaded);
    const threshold = written.policy.threshold as number;
    const offloaded = scored.predictions.filter((p) => Math.max(...p.edge) < threshold);
    expect(offloaded.length).toBeGreaterThan(10);
    const sentBy = new Map(sent.map((s) => [s.source, s.bytes]));
    for (const p of scored.predictions) {
      const go = Math.max(...p.edge) < threshold;
      expect(sentBy.get(p.name), p.name).toBe(go ? bytesByName.get(p.name) : undefined);
    }
    // And each offloaded frame's final answer is the cloud's, fused with the edge's as scored.
    const records = (await readFile(recordsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; final: { index: number; source: string } });
    const finalBy = new Map(records.map((r) => [path.basename(r.file), r.final]));
    const fused = withFusion(scored.predictions, written.fusion.edgeWeight);
    let same = 0;
    for (const p of fused.filter((q) => Math.max(...q.edge) < threshold)) {
      const final = finalBy.get(p.name)!;
      expect(final.source).toBe('cloud');
      if (final.index === p.cloud[variant]!.top1) same++;
    }
    // The gateway batches: a near tie in the cloud's probabilities may fall the other way.
    expect(same).toBeGreaterThanOrEqual(offloaded.length - 1);
  }, 600_000);
});
