/** The audit's tallies and its text report. */
import type { AuditedDumpPayload, Leak } from './audit-dump.ts';
import {
  type AuditTally,
  emptyTally,
  LARGE_FACE_PX,
  MAX_SMALL_LEAK_SHARE,
  meetsTargets,
  tally,
  WIDTH_BINS,
} from './match.ts';

export interface AuditReport {
  dump: string;
  source: string;
  auditors: { id: string; threshold: number }[];
  minIou: number;
  payloads: number;
  unaudited: { file: string; reason: string }[];
  /** Auditor boxes left out as reviewed non-faces. */
  excluded: number;
  /** All payloads, faces merged over the auditors. */
  total: AuditTally;
  /** By `<task>/<kind>`, e.g. `classify/original`, `detect/object`. */
  byKind: Record<string, AuditTally & { payloads: number }>;
  /** Each auditor on its own, all payloads. */
  byAuditor: Record<string, AuditTally>;
  leaks: Leak[];
  targets: { largeFacePx: number; maxSmallLeakShare: number; met: boolean };
}

export function summarizeAudit(
  payloads: readonly AuditedDumpPayload[],
  meta: Pick<AuditReport, 'dump' | 'source' | 'auditors' | 'minIou' | 'unaudited'>,
): AuditReport {
  const total = emptyTally();
  const byKind: AuditReport['byKind'] = {};
  const byAuditor: AuditReport['byAuditor'] = Object.fromEntries(
    meta.auditors.map((a) => [a.id, emptyTally()]),
  );
  for (const p of payloads) {
    tally(total, p.faces);
    const key = `${p.task}/${p.entry.kind}`;
    byKind[key] ??= { ...emptyTally(), payloads: 0 };
    byKind[key].payloads++;
    tally(byKind[key], p.faces);
    for (const [id, faces] of p.byAuditor) {
      byAuditor[id] ??= emptyTally();
      tally(byAuditor[id], faces);
    }
  }
  return {
    ...meta,
    payloads: payloads.length,
    excluded: payloads.reduce((n, p) => n + p.excluded, 0),
    total,
    byKind,
    byAuditor,
    leaks: payloads.flatMap((p) => p.leaks),
    // A payload that could not be audited proves nothing: the targets are not met.
    targets: {
      largeFacePx: LARGE_FACE_PX,
      maxSmallLeakShare: MAX_SMALL_LEAK_SHARE,
      met: meetsTargets(total) && meta.unaudited.length === 0,
    },
  };
}

const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

function row(name: string, t: AuditTally, payloads?: number): string {
  const cells = [
    name.padEnd(20),
    String(payloads ?? '').padStart(8),
    String(t.faces).padStart(6),
    String(t.leaked).padStart(6),
    ...t.bins.map((b) => `${b.leaked}/${b.faces}`.padStart(9)),
    `${t.large.leaked}/${t.large.faces}`.padStart(9),
    pct(t.small.leaked, t.small.faces).padStart(8),
    meetsTargets(t) ? 'yes' : 'NO',
  ];
  return cells.join(' ');
}

const HEADER = [
  ''.padEnd(20),
  'payloads'.padStart(8),
  'faces'.padStart(6),
  'leaked'.padStart(6),
  ...WIDTH_BINS.map((b) => b.label.padStart(9)),
  `≥ ${LARGE_FACE_PX} px`.padStart(9),
  `< ${LARGE_FACE_PX} px`.padStart(8),
  'targets',
].join(' ');

const verdict = (r: AuditReport) =>
  r.targets.met ? 'met' : meetsTargets(r.total) ? 'NOT PROVEN (payloads not audited)' : 'NOT MET';

/** The report as text: tables by payload kind and by auditor, then the leaks (at most `maxLeaks`). */
export function formatAudit(r: AuditReport, options: { maxLeaks?: number } = {}): string {
  const { maxLeaks = 30 } = options;
  const lines = [
    `audit of ${r.payloads} payloads in ${r.dump} against ${r.source}`,
    `auditors: ${r.auditors.map((a) => `${a.id} (score ≥ ${a.threshold})`).join(', ')}; a face leaks when an auditor finds it before redaction and still finds it after (IoU ≥ ${r.minIou})`,
    `targets: no leak ≥ ${LARGE_FACE_PX} px, at most ${MAX_SMALL_LEAK_SHARE * 100} % below: ${verdict(r)}`,
    ...(r.excluded > 0 ? [`left out: ${r.excluded} auditor boxes reviewed as not faces`] : []),
    ...(r.unaudited.length > 0
      ? [`not audited: ${r.unaudited.length} payloads (${r.unaudited[0]!.reason}…)`]
      : []),
    '',
    'still found after / faces before, by face width in the payload:',
    HEADER,
    ...Object.entries(r.byKind)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, t]) => row(k, t, t.payloads)),
    row('all', r.total, r.payloads),
    '',
    'each auditor on its own:',
    HEADER,
    ...Object.entries(r.byAuditor).map(([id, t]) => row(id, t)),
  ];
  if (r.leaks.length > 0) {
    lines.push('', `leaks (${r.leaks.length}${r.leaks.length > maxLeaks ? `, first ${maxLeaks}` : ''}):`);
    for (const l of r.leaks.slice(0, maxLeaks)) {
      lines.push(
        `  ${l.file} ${l.width.toFixed(0)} px at ${l.box.map((v) => Math.round(v)).join(',')} (source ${l.sourceBox.map((v) => Math.round(v)).join(',')}), still found by ${l.stillFoundBy.join(', ')}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
