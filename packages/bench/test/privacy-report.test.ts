import { summarizeAudit } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';
import { byKind, type PrivacyBenchResults, privacyHeadline, privacyTable } from '../src/privacy/table.ts';

/** A report of `faces` (width, leaked) as the audit would give it for one dump. */
function report(faces: [number, boolean][]) {
  const payload = {
    task: 'classify' as const,
    entry: { kind: 'crop' } as never,
    faces: faces.map(([width, leaked]) => ({ width, stillFoundBy: leaked ? ['ultraface-rfb640'] : [] })),
    byAuditor: new Map(),
    leaks: [],
    excluded: 0,
  };
  return summarizeAudit([payload as never], {
    dump: '',
    source: '',
    auditors: [{ id: 'ultraface-rfb640', threshold: 0.6 }],
    minIou: 0.3,
    unaudited: [],
  });
}

const machine = {
  cpu: 'Test CPU',
  cores: 2,
  memoryGb: 8,
  platform: 'linux',
  node: 'v20',
  date: '2026-01-02T00:00:00Z',
};
const results = (runs: PrivacyBenchResults['runs']): PrivacyBenchResults => ({
  machine,
  command: 'npm run bench:privacy',
  runtimeS: 60,
  threshold: 0.6,
  minIou: 0.3,
  runs,
});

describe('bench:privacy tables', () => {
  // 60 small faces on the photos, one leaked; 2 on the street, one leaked: 2 of 62 = 3.2 % > 2 %.
  const photos = report([
    ...Array.from({ length: 59 }, () => [12, false] as [number, boolean]),
    [12, true],
    [40, false],
  ]);
  const street = report([
    [8, true],
    [8, false],
  ]);
  const r = results([
    { redaction: 'default', set: 'faces', kind: 'crop', auditors: ['ultraface-rfb640'], report: photos },
    { redaction: 'default', set: 'street', kind: 'crop', auditors: ['ultraface-rfb640'], report: street },
  ]);

  it('judges the targets per payload kind over both sets together', () => {
    expect(byKind(r)).toEqual([
      { redaction: 'default', kind: 'crop', large: [0, 1], small: [2, 62], met: false },
    ]);
    const met = results([r.runs[0]!]);
    expect(byKind(met)[0]?.met).toBe(true);
  });
  it('a leak of a large face misses the targets whatever the share', () => {
    const large = report([
      [30, true],
      ...Array.from({ length: 200 }, () => [10, false] as [number, boolean]),
    ]);
    const one = results([{ redaction: 'default', set: 'faces', kind: 'frame', auditors: [], report: large }]);
    expect(byKind(one)[0]?.met).toBe(false);
  });
  it('prints every run and the per-kind verdict from the figures', () => {
    const table = privacyTable(r);
    expect(table).toContain('Produced by `npm run bench:privacy` on Test CPU');
    expect(table).toContain('| default | faces | crop | ultraface-rfb640 | 1 | 61 | **1** |');
    expect(table).toContain('| default | crop | 0 of 1 | 2 of 62 (3.2 %) | **not met** |');
    expect(table).not.toMatch(/NaN|undefined/);
  });
  it('gives the README the shipped redaction over every kind', () => {
    expect(privacyHeadline(r)).toEqual([
      {
        figure: expect.stringContaining('Faces that left unredacted'),
        value: '0 ≥ 24 px; 3.2 % of the smaller',
      },
    ]);
  });
});
