import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/cli.ts';
import { datasetDir, haveRealModels, modelsDir, repoRoot } from '../support/env.ts';

const BENCH = path.join(repoRoot, 'packages/bench/src/cascade/main.ts');
const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');

/** The user's shell, with the dataset variable left as the suite found it. */
const cli = (args: string[]) => runNode(args, { ...process.env, SQUEEZEGATE_MODELS_DIR: modelsDir });

/** The agent on 12 sample frames with a calibrated fragment, no gateway there: its records. */
async function agentWith(fragment: string) {
  const agent = await cli([
    EDGE,
    '--config',
    fragment,
    '--source',
    datasetDir,
    '--limit',
    '12',
    '--token',
    'x',
    '--gateway',
    'ws://127.0.0.1:9/v1/edge',
    '--log-level',
    'error',
  ]);
  expect(agent.code, agent.stderr).toBe(0);
  const records = agent.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(records).toHaveLength(12);
  return records;
}

describe.skipIf(!haveRealModels)('bench:cascade and calibrate, as a user runs them', () => {
  let work: string;
  let cache: string;

  it('bench:cascade refuses a docs file without its markers before measuring anything', async () => {
    work = await mkdtemp(path.join(tmpdir(), 'sg-bench-'));
    cache = path.join(work, 'cache');
    const doc = path.join(work, 'unmarked.md');
    await writeFile(doc, '# Benchmarks\n');
    const r = await cli([
      '--conditions=source',
      '--import',
      'tsx',
      BENCH,
      '--dataset',
      datasetDir,
      '--doc',
      doc,
      '--cache-dir',
      cache,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bench:cascade: invalid configuration');
    expect(r.stderr).toContain('unmarked.md has no <!-- bench:cascade:start -->');
    await expect(stat(cache)).rejects.toThrow(/ENOENT/);
  });

  it('bench:cascade writes results.csv, results.json (with the headline), table.md and chart.svg, its docs section and its README rows', async () => {
    const out = path.join(work, 'out');
    const doc = path.join(work, 'docs', 'benchmarks.md');
    const readme = path.join(work, 'README.md');
    await mkdir(path.dirname(doc));
    await writeFile(
      doc,
      '# Benchmarks\n\n## Policies\n\n<!-- bench:cascade:start -->\nstale\n<!-- bench:cascade:end -->\n',
    );
    await writeFile(readme, '# x\n\n<!-- bench:headline:start -->\n<!-- bench:headline:end -->\n');
    const args = [
      '--conditions=source',
      '--import',
      'tsx',
      BENCH,
      '--dataset',
      datasetDir,
      '--limit',
      '50',
      '--out',
      out,
      '--cache-dir',
      cache,
      '--doc',
      doc,
      '--readme',
      readme,
    ];
    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/machine: .*cores/);
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8'));
    expect(results.frames).toBe(50);
    expect(results.machine.cores).toBeGreaterThan(0);
    const h = results.headline;
    expect(Object.keys(h).sort()).toEqual(
      [
        'best',
        'bytesRatioAt99',
        'cheapestNearOriginal',
        'cloudTop1',
        'edgeTop1',
        'offloadFor99PctOfCloud',
        'payload',
      ].sort(),
    );
    // The cheapest payload within a point of original's cloud top-1 (original itself at worst).
    expect(h.cheapestNearOriginal.cloudTop1).toBeGreaterThanOrEqual(h.cloudTop1 - 0.01 - 1e-9);
    expect(h.cheapestNearOriginal.bytesPerFrame).toBeLessThanOrEqual(
      results.payloads.find((p: { payload: string }) => p.payload === 'original').bytesPerFrame,
    );
    expect(Object.keys(h.offloadFor99PctOfCloud)).toEqual(
      expect.arrayContaining(['maxProb', 'margin', 'entropy', 'calibrated', 'learned', 'rate']),
    );
    expect(h.cloudTop1).toBeGreaterThan(h.edgeTop1);
    // The sweep rows are in results.csv only; the JSON names it.
    expect(results.rows).toBe('results.csv');
    const csv = await readFile(path.join(out, 'results.csv'), 'utf8');
    const [header, ...lines] = csv.trim().split('\n');
    expect(header).toBe(
      'payload,policy,param,offloadFraction,cascadeTop1,keptOfCloud,bytesPerFrame,bytesRatio,costPer1kFrames',
    );
    const policies = new Set(lines.map((l) => l.split(',')[1]));
    for (const p of ['maxProb', 'learned', 'rate', 'budget', 'edge-only', 'cloud-only', 'random', 'oracle']) {
      expect(policies.has(p), p).toBe(true);
    }
    expect(await readFile(path.join(out, 'table.md'), 'utf8')).toMatch(/\| policy \| original \|/);
    expect((await readFile(path.join(out, 'chart.svg'), 'utf8')).startsWith('<svg')).toBe(true);

    // The docs section: the chart relative to the doc, then the same tables as table.md.
    const section = await readFile(doc, 'utf8');
    expect(section).not.toContain('stale');
    expect(section).toContain(
      '<!-- bench:cascade:start -->\n![cascade top-1 against offload fraction](../out/chart.svg)',
    );
    expect(section).toContain((await readFile(path.join(out, 'table.md'), 'utf8')).trimEnd());
    // The README rows: the headline's figures, linked to the section's heading.
    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    const rows = () =>
      readFile(readme, 'utf8').then((t) =>
        t
          .split('\n')
          .filter((l) => l.includes('bench:cascade'))
          // The run's date ends each row; a re-run may fall on the next day.
          .map((l) => l.replace(/, \d{4}-\d{2}-\d{2} \|$/, ' |'))
          // An extra pass's cost is timed in each run.
          .map((l) => l.replace(/for [\d.]+ ms more per frame/, 'for … ms more per frame')),
      );
    const written = await rows();
    // The cascade's four rows, then issue 16's: the best extra-pass signal (when one reaches 99 %
    // on this small set) and the agent's defaults with fused answers.
    expect(written.length).toBeGreaterThanOrEqual(5);
    expect(written.at(-1)).toContain("Kept of cloud-only top-1 with the agent's defaults");
    expect(written[0]).toContain(`| ${pct(h.edgeTop1)} | [bench:cascade](docs/benchmarks.md#policies) |`);
    expect(written[1]).toContain(`| ${pct(h.cloudTop1)} |`);
    expect(written[3]).toContain(`| ${h.cheapestNearOriginal.payload}: `);

    // The re-run reads every prediction from the cache: same numbers.
    const second = await cli(args);
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8'));
    expect(again.headline).toEqual(results.headline);
    expect(await rows()).toEqual(written);
  });

  it('calibrate writes a config fragment that the agent then runs with', async () => {
    const fragment = path.join(work, 'policy.json');
    const report = path.join(work, 'report.json');
    const cal = await cli([
      EDGE,
      'calibrate',
      '--dataset',
      datasetDir,
      '--limit',
      '60',
      '--target',
      'offload:0.4',
      '--splits',
      '20',
      '--cache-dir',
      cache,
      '--out',
      fragment,
      '--json',
      report,
    ]);
    expect(cal.code, cal.stderr).toBe(0);
    expect(cal.stderr).toMatch(/held-out offload/);
    const written = JSON.parse(await readFile(fragment, 'utf8'));
    expect(written.policy).toMatchObject({ kind: 'threshold', measure: 'maxProb' });
    expect(written.payload.kind).toMatch(/crop|original/);
    const r = JSON.parse(await readFile(report, 'utf8'));
    expect(r.heldOut.offloadFraction.lo).toBeLessThanOrEqual(r.heldOut.offloadFraction.value);
    expect(r.robustness.splits).toBe(20);

    const records = await agentWith(fragment);
    for (const rec of records) {
      expect(rec.decision.policy).toBe('threshold');
      expect(rec.decision.threshold).toBeCloseTo(written.policy.threshold, 10);
    }
    // No gateway at that address: offloaded frames keep their local answer.
    expect(
      records.filter((x) => x.decision.kind === 'offload').every((x) => x.final.source === 'local'),
    ).toBe(true);
  });

  it('calibrate says clearly when a target cannot be met', async () => {
    const cal = await cli([
      EDGE,
      'calibrate',
      '--dataset',
      datasetDir,
      '--limit',
      '60',
      '--target',
      'keep:0.999',
      '--payload',
      'crop',
      '--quality',
      '50',
      '--splits',
      '5',
      '--cache-dir',
      cache,
    ]);
    expect(cal.code).toBe(5);
    expect(cal.stderr).toMatch(/no threshold meets keep 0\.999/);
    expect((await stat(cache)).isDirectory()).toBe(true);
  });

  it('calibrate --measure alt writes a rule the agent runs with its second model', async () => {
    const fragment = path.join(work, 'alt.json');
    const cal = await cli([
      EDGE,
      'calibrate',
      '--dataset',
      datasetDir,
      '--limit',
      '60',
      '--target',
      'offload:0.5',
      '--measure',
      'alt',
      '--splits',
      '5',
      '--cache-dir',
      cache,
      '--out',
      fragment,
    ]);
    expect(cal.code, cal.stderr).toBe(0);
    const written = JSON.parse(await readFile(fragment, 'utf8'));
    expect(written.policy.kind).toBe('learned');
    expect(written.policy.rule.features).toContain('altP');
    const records = await agentWith(fragment);
    // Every frame decided by the rule (with the alt model's pass), none failed.
    for (const rec of records) expect(rec.decision.policy).toBe('learned');
    expect(records.some((r) => r.decision.kind === 'offload')).toBe(true);
    expect(records.some((r) => r.decision.kind === 'local')).toBe(true);
  });
});
