// bench:privacy's tables: every figure comes from the audit reports of one run.
import type { AuditReport } from '@squeezegate/edge';
import { describeMachine, type MachineInfo } from '../machine.ts';
import type { HeadlineRow } from '../publish.ts';

/** One `npm start --payload-dump` and its audit. */
export interface RunRow {
  redaction: string;
  set: 'faces' | 'street';
  kind: string;
  auditors: string[];
  report: AuditReport;
}

export interface PrivacyBenchResults {
  machine: MachineInfo;
  command: string;
  runtimeS: number;
  threshold: number;
  minIou: number;
  runs: RunRow[];
}

const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);
const leakedOf = (n: number, d: number) => `${n} of ${d}`;

/** Per redaction and payload kind, both sets together: the unit the targets are stated on. */
export function byKind(results: PrivacyBenchResults) {
  const groups = new Map<
    string,
    { redaction: string; kind: string; large: [number, number]; small: [number, number]; met: boolean }
  >();
  for (const r of results.runs) {
    const key = `${r.redaction}\u0000${r.kind}`;
    const g = groups.get(key) ?? {
      redaction: r.redaction,
      kind: r.kind,
      large: [0, 0],
      small: [0, 0],
      met: true,
    };
    const t = r.report.total;
    g.large = [g.large[0] + t.large.leaked, g.large[1] + t.large.faces];
    g.small = [g.small[0] + t.small.leaked, g.small[1] + t.small.faces];
    g.met &&= r.report.unaudited.length === 0;
    groups.set(key, g);
  }
  const max = results.runs[0]?.report.targets.maxSmallLeakShare ?? 0.02;
  return [...groups.values()].map((g) => ({
    ...g,
    met: g.met && g.large[0] === 0 && g.small[0] <= max * g.small[1],
  }));
}

export function privacyTable(r: PrivacyBenchResults): string {
  const targets = r.runs[0]?.report.targets;
  const px = targets?.largeFacePx ?? 24;
  const share = (targets?.maxSmallLeakShare ?? 0.02) * 100;
  const bins = r.runs[0]?.report.total.bins.map((b) => b.label) ?? [];
  return [
    `Produced by \`${r.command}\` on ${describeMachine(r.machine)}, ${r.machine.date.slice(0, 10)}, in ${r.runtimeS.toFixed(0)} s. Each row is one \`npm start --edges 1 --payload-dump\` (classify: \`--policy always --payload <kind>\`; detect: \`--task detect\` with its defaults) and \`squeezegate-edge audit\` of the dump: faces the auditors (the face models the redaction did not use, score ≥ ${r.threshold}) find in the unredacted cut, and how many they still find (IoU ≥ ${r.minIou}) in the payload as it left. Face photos: the ten of the detection sample; street: twenty frames of vtest.avi. Targets: no leak ≥ ${px} px, at most ${share} % of the smaller faces.`,
    '',
    `| redaction | set | payload | auditors | payloads | faces | leaked | ${bins.map((b) => `${b}`).join(' | ')} | ≥ ${px} px leaked |`,
    `|---|---|---|---|---|---|---|${bins.map(() => '---|').join('')}---|`,
    ...r.runs.map((x) => {
      const t = x.report.total;
      return `| ${x.redaction} | ${x.set} | ${x.kind} | ${x.auditors.join(', ')} | ${x.report.payloads} | ${t.faces} | **${t.leaked}** | ${t.bins.map((b) => `${b.leaked}/${b.faces}`).join(' | ')} | ${t.large.leaked}/${t.large.faces} |`;
    }),
    '',
    `Per payload kind, both sets together (the targets):`,
    '',
    `| redaction | payload | leaked ≥ ${px} px | leaked < ${px} px | targets |`,
    '|---|---|---|---|---|',
    ...byKind(r).map(
      (g) =>
        `| ${g.redaction} | ${g.kind} | ${leakedOf(...g.large)} | ${leakedOf(...g.small)} (${pct(...g.small)}) | ${g.met ? 'met' : '**not met**'} |`,
    ),
    '',
  ].join('\n');
}

/** The README's row: the shipped redaction, every payload kind and set together. */
export function privacyHeadline(r: PrivacyBenchResults): HeadlineRow[] {
  const shipped = byKind(r).filter((g) => g.redaction === 'default');
  if (shipped.length === 0) return [];
  const large = shipped.reduce((n, g) => n + g.large[0], 0);
  const small = shipped.reduce((a, g) => [a[0] + g.small[0], a[1] + g.small[1]] as [number, number], [
    0, 0,
  ] as [number, number]);
  const px = r.runs[0]?.report.targets.largeFacePx ?? 24;
  return [
    {
      figure: `Faces that left unredacted, audited by face models the redaction did not use (face photos and street frames, every payload kind)`,
      value: `${large} ≥ ${px} px; ${pct(...small)} of the smaller`,
    },
  ];
}
