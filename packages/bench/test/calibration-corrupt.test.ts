import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels } from '../../../test/support/env.ts';
import {
  buildCorruptedSet,
  CORRUPTION_PARAMS,
  CORRUPTIONS,
  corruptImage,
} from '../src/calibration/corrupt.ts';
import { type CalibrationResults, toMarkdown } from '../src/calibration/report.ts';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'sg-corrupt-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Mean absolute difference per channel value between two images of the same size. */
async function difference(a: Buffer, b: Buffer): Promise<{ mad: number; meanA: number; meanB: number }> {
  const ra = await sharp(a).removeAlpha().raw().toBuffer();
  const rb = await sharp(b).removeAlpha().raw().toBuffer();
  let d = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < ra.length; i++) {
    d += Math.abs(ra[i]! - rb[i]!);
    sa += ra[i]!;
    sb += rb[i]!;
  }
  return { mad: d / ra.length, meanA: sa / ra.length, meanB: sb / rb.length };
}

describe.skipIf(!haveRealModels)('the corrupted copy', () => {
  it('gives each image one corruption, the kinds in equal shares, same labels, same bytes from the same seed', async () => {
    const [a, b] = [await tmp(), await tmp()];
    const one = await buildCorruptedSet({ dataset: datasetDir, root: a, limit: 10, seed: 7 });
    const two = await buildCorruptedSet({ dataset: datasetDir, root: b, limit: 10, seed: 7 });
    expect(one.reused).toBe(false);
    expect(path.basename(one.dir)).toBe('corrupted-s7-n10');
    const counts = CORRUPTIONS.map((c) => [...one.corruption.values()].filter((k) => k === c).length);
    expect(counts).toEqual([2, 2, 2, 2, 2]);
    const images = (await readdir(one.dir)).filter((f) => f.endsWith('.jpg')).sort();
    expect(images).toHaveLength(10);
    for (const f of images) {
      expect(await readFile(path.join(one.dir, f))).toEqual(await readFile(path.join(two.dir, f)));
    }
    // The manifest keeps the dataset's rows (and so its labels), with the corruption appended.
    const source = (await readFile(path.join(datasetDir, 'manifest.csv'), 'utf8')).split(/\r?\n/);
    const copy = (await readFile(path.join(one.dir, 'manifest.csv'), 'utf8')).trim().split('\n');
    expect(copy[0]).toBe(`${source[0]!.trim()},corruption`);
    for (const line of copy.slice(1)) {
      const file = line.slice(0, line.indexOf(','));
      expect(source).toContain(line.slice(0, line.lastIndexOf(',')));
      expect(line.endsWith(`,${one.corruption.get(file)}`)).toBe(true);
    }
    // Built once: a second call with the same settings only reads.
    expect((await buildCorruptedSet({ dataset: datasetDir, root: a, limit: 10, seed: 7 })).reused).toBe(true);
    // Another seed, another assignment.
    const other = await buildCorruptedSet({ dataset: datasetDir, root: a, limit: 10, seed: 8 });
    const byFile = (m: ReadonlyMap<string, string>) => [...m].sort(([x], [y]) => (x < y ? -1 : 1));
    expect(byFile(other.corruption)).not.toEqual(byFile(one.corruption));
  });

  it('changes an image the way each corruption says', async () => {
    const input = await readFile(
      path.join(datasetDir, (await readdir(datasetDir)).find((f) => f.endsWith('.jpg'))!),
    );
    const clean = await sharp(input).jpeg({ quality: 90 }).toBuffer();
    const by = Object.fromEntries(
      await Promise.all(
        CORRUPTIONS.map(async (c) => [c, await difference(clean, await corruptImage(input, c, 1))] as const),
      ),
    );
    // Low light: much darker on average; the others keep the brightness within a few levels.
    expect(by.lowlight!.meanB).toBeLessThan(0.5 * by.lowlight!.meanA);
    for (const c of ['noise', 'blur', 'jpeg', 'pixelate'] as const) {
      expect(Math.abs(by[c]!.meanB - by[c]!.meanA), c).toBeLessThan(6);
      expect(by[c]!.mad, c).toBeGreaterThan(2);
    }
    // The same seed, the same noise; another seed, other noise.
    expect(await corruptImage(input, 'noise', 1)).toEqual(await corruptImage(input, 'noise', 1));
    expect(await corruptImage(input, 'noise', 2)).not.toEqual(await corruptImage(input, 'noise', 1));
  });
});

describe('the calibration report', () => {
  const row = { method: 'ltt', confidence: 0.98, splits: 200, keptMean: 0.998 } as const;
  const results = (metFraction: number, offloadMean: number): CalibrationResults => ({
    machine: {
      cpu: 'cpu',
      cores: 2,
      memoryGb: 8,
      platform: 'linux',
      node: 'v20',
      date: '2026-11-28T00:00:00Z',
    },
    command: 'npm run bench:calibration',
    seconds: 1,
    edgeModel: 'squeezenet1.1',
    cloudModel: 'mobilenetv2-12-int8',
    frames: 1000,
    corruptedFrames: 1000,
    corruptionSeed: 1,
    corruptionParams: CORRUPTION_PARAMS,
    chosen: { method: 'ltt', confidence: 0.98 },
    wholeSet: [{ target: 0.99, offload: 0.571, floor: 0.637 }],
    clean: [{ ...row, target: 0.99, metFraction, offloadMean }],
    shift: [],
  });

  it('says which of the issue’s bars are met, and by how much the others are missed', () => {
    const good = toMarkdown(results(0.98, 0.6));
    expect(good).toContain('goal ≥ 95.0 %: met (by 3.0 points)');
    expect(good).toContain('goal ≤ 62.0 %: met (by 2.0 points)');
    const bad = toMarkdown(results(0.94, 0.667));
    expect(bad).toContain('goal ≥ 95.0 %: **missed** by 1.0 points');
    expect(bad).toContain('goal ≤ 62.0 %: **missed** by 4.7 points');
    expect(bad).toContain('| ltt @ 0.98 (default) | 0.99 | 94.0 % | 66.7 % | 99.8 % |');
  });
});
