import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/cli.ts';
import { datasetDir, haveRealModels, modelsDir, repoRoot } from '../support/env.ts';

// As `npm run bench:gateway -- --wire` runs it.
const BENCH = path.join(repoRoot, 'packages/bench/src/gateway/bench-gateway.ts');
const PLANE_BYTES = 3 * 224 * 224 * 4;
const cli = (args: string[]) =>
  runNode(['--conditions=source', '--import', 'tsx', BENCH, '--wire', ...args], {
    ...process.env,
    SQUEEZEGATE_MODELS_DIR: modelsDir,
  });

describe.skipIf(!haveRealModels)('the remote wire bench, as the lead runs it', () => {
  it('measures JSON against binary through a second gateway and writes what it printed', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'sg-remote-wire-'));
    const r = await cli(['--dataset', datasetDir, '--frames', '4', '--rounds', '1', '--out', out]);
    expect(r.stderr).toMatch(/^machine: .+ cores/m);
    expect(r.code).toBe(0);
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8'));
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.binary).toMatchObject({ wire: 'binary', requests: 4, frames: 4 });
    // Sizes follow from the encodings, not from the machine: 4 bytes a float plus a small JSON part
    // and HTTP headers, against decimals of every float.
    expect(results.binary.upBytesPerRequest).toBeGreaterThan(PLANE_BYTES);
    expect(results.binary.upBytesPerRequest).toBeLessThan(PLANE_BYTES + 2048);
    expect(results.json.upBytesPerRequest).toBeGreaterThan(3 * PLANE_BYTES);
    expect(results.bytesRatio).toBeCloseTo(results.json.bytesPerFrame / results.binary.bytesPerFrame, 6);
    // Both wires carry float32 exactly: the same top-1 for every frame.
    expect(results.top1Agreement).toBe(1);
    expect(r.stderr).toContain(`binary: ${results.bytesRatio.toFixed(2)}x fewer bytes per frame`);
  });

  it('refuses bad options before starting anything', async () => {
    const r = await cli(['--dataset', datasetDir, '--batch', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('batch');
  });
});
