import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type BenchCli,
  cascadeConfigFromCli,
  detectBenchConfigFromCli,
  gatewayBenchConfigFromCli,
} from '@squeezegate/bench';
import { describe, expect, it } from 'vitest';

const env = { SQUEEZEGATE_DATASET_DIR: '/data/imagenet', SQUEEZEGATE_MODELS_DIR: '/models' };

function config<T>(cli: BenchCli<T>): Readonly<T> {
  if (cli.kind !== 'run') throw new Error(`expected a config, got ${JSON.stringify(cli)}`);
  return cli.config;
}
function exit<T>(cli: BenchCli<T>) {
  if (cli.kind !== 'exit') throw new Error(`expected an exit, got ${JSON.stringify(cli)}`);
  return cli;
}

describe('the bench command lines, read like the edge and gateway ones', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const readers: ((argv: string[], e: typeof env) => Promise<BenchCli<object>>)[] = [
      cascadeConfigFromCli,
      gatewayBenchConfigFromCli,
      detectBenchConfigFromCli,
    ];
    for (const read of readers) {
      const e = exit(await read(['--help'], env));
      expect(e.code).toBe(0);
      expect(e.stdout).toMatch(/^Usage: npm run bench:(cascade|gateway|detect) -- \[options\]/);
      expect(e.stdout).toContain('--doc <file>');
      expect(e.stdout).toContain('--readme <file>');
      expect(e.stderr).toBe('');
    }
  });

  it('lists every bad setting at once, then exits 2', async () => {
    const e = exit(await cascadeConfigFromCli(['--limit', '0', '--price-gb=-1', '--fps', 'x'], env));
    expect(e.code).toBe(2);
    expect(e.stdout).toBe('');
    const lines = e.stderr.split('\n');
    expect(lines[0]).toBe('bench:cascade: invalid configuration');
    expect(lines.filter((l) => l.startsWith('  - ')).map((l) => l.split(':')[0])).toEqual(
      expect.arrayContaining(['  - limit', '  - fps', '  - prices.perGb']),
    );
    expect(e.stderr).toContain('See npm run bench:cascade -- --help.');
  });

  it('refuses an unknown flag and a missing dataset the same way', async () => {
    const unknown = exit(await gatewayBenchConfigFromCli(['--device', '3'], env));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^bench:gateway: invalid configuration\n {2}- Unknown option '--device'/);
    const noData = exit(await cascadeConfigFromCli([], {}));
    expect(noData.stderr).toContain(
      'dataset: no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR',
    );
  });

  it('takes defaults, then the environment, then flags', async () => {
    const c = config(await cascadeConfigFromCli([], env));
    expect(c).toMatchObject({
      dataset: '/data/imagenet',
      modelsDir: '/models',
      out: 'bench-results/cascade',
      cacheDir: '.cache/squeezegate',
      fps: 10,
      prices: { perGb: 2, per1kInferences: 0.1 },
    });
    expect(c.limit).toBeUndefined();
    const g = config(await gatewayBenchConfigFromCli(['--devices', '2', '--max-queue-delay-ms', '0'], env));
    expect(g).toMatchObject({ devices: 2, frames: 800, maxBatch: 8, maxQueueDelayMs: 0, overload: 10 });
    expect(exit(await gatewayBenchConfigFromCli(['--devices', '1.5'], env)).stderr).toContain('  - devices:');
    const d = config(await detectBenchConfigFromCli(['--runs', '1'], { SQUEEZEGATE_MODELS_DIR: '/models' }));
    expect(d).toMatchObject({
      dataset: '../shared/datasets/detection-sample',
      imagenet: '../shared/datasets/imagenet-sample',
      runs: 1,
      limit: 300,
      threads: 1,
    });
  });

  it('reads a --config file under the flags, and --print-config shows the result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-bench-cli-'));
    const file = path.join(dir, 'bench.yaml');
    await writeFile(file, 'fps: 5\nlimit: 40\nprices:\n  perGb: 3\n');
    const c = config(await cascadeConfigFromCli(['--config', file, '--limit', '20'], env));
    expect(c).toMatchObject({ fps: 5, limit: 20, prices: { perGb: 3, per1kInferences: 0.1 } });
    const printed = exit(await cascadeConfigFromCli(['--config', file, '--print-config'], env));
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({ fps: 5, limit: 40, dataset: '/data/imagenet' });
    await writeFile(file, 'fsp: 5\n');
    expect(exit(await cascadeConfigFromCli(['--config', file], env)).stderr).toMatch(/fsp/);
  });

  it('refuses a --doc or --readme without its markers before anything is measured', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-bench-cli-'));
    const doc = path.join(dir, 'benchmarks.md');
    await writeFile(doc, '# Benchmarks\n<!-- bench:cascade:start -->\n<!-- bench:cascade:end -->\n');
    expect(config(await cascadeConfigFromCli(['--doc', doc], env)).doc).toBe(doc);
    const e = exit(
      await detectBenchConfigFromCli(['--doc', doc, '--readme', path.join(dir, 'README.md')], env),
    );
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('benchmarks.md has no <!-- bench:detect:start -->');
    expect(e.stderr).toMatch(/README\.md: ENOENT/);
  });
});
