import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  DETECTORS,
  type Detector,
  ModelLoadError,
  openDetector,
  resolveModelsDir,
} from '@squeezegate/shared';
import { AuditError, auditDump, defaultAuditorIds, readDumpIndex } from '../audit/audit-dump.ts';
import { AUDIT_IOU, AUDIT_THRESHOLD } from '../audit/audit-payload.ts';
import { type NotFaces, readNotFaces } from '../audit/not-faces.ts';
import { type AuditReport, formatAudit, summarizeAudit } from '../audit/report.ts';

const FACE_IDS: readonly string[] = DETECTORS.filter((d) => d.role === 'face').map((d) => d.id);

export const AUDIT_HELP = `Usage: squeezegate-edge audit --dump <dir> --source <dir> [options]

Checks what left the device. Reads a payload dump (--payload-dump of squeezegate-edge or npm
start), cuts each payload's unredacted equivalent from its source frame, and looks for faces in
both with face detectors the redaction did not use. A face an auditor finds before redaction and
still finds after (IoU ≥ ${AUDIT_IOU}) leaked. Reports faces before and still found after by
face width, per task and payload kind and per auditor, and lists each leak.

Options (environment variable in brackets):
  --dump <dir>         the payload dump: payloads.jsonl and the payloads
  --source <dir>       the frames the payloads were cut from (a folder source; for a video,
                       its frames as <name>.jpg)
  --auditors <ids>     comma-separated face models (${FACE_IDS.join(', ')});
                       default: every face model the redaction did not use
  --threshold <s>      face score at which an auditor counts a face (default ${AUDIT_THRESHOLD})
  --iou <x>            overlap at which a face found after is the face found before (default ${AUDIT_IOU})
  --not-faces <file>   JSON list of reviewed auditor false positives to leave out:
                       [{"source": "vtest_*.jpg", "box": [x1, y1, x2, y2], "note": "van's back"}]
  --json <file>        also write the report as JSON
  --leaks <n>          leaks listed in the text report (default 30)
  --models-dir <dir>   [SQUEEZEGATE_MODELS_DIR] (default ./models)
  -h, --help

Exit codes: 0 the targets hold (no leak ≥ 24 px wide, at most 2 % of the faces below leaked),
1 unexpected failure, 2 bad options, 3 model files missing, 4 dump or source unreadable,
7 leaks beyond the targets.

Example:
  npm start -- --dataset faces/ --policy always --payload original --payload-dump /tmp/dump
  squeezegate-edge audit --dump /tmp/dump --source faces/ --json audit.json
`;

/** The exit code of an audit that found leaks beyond the targets. */
export const AUDIT_LEAKS_EXIT = 7;

export interface AuditCli {
  dump: string;
  source: string;
  /** Empty: the default auditors of the dump. */
  auditors: string[];
  threshold: number;
  iou: number;
  notFaces: string | undefined;
  json: string | undefined;
  leaks: number;
  modelsDir: string;
}

export type AuditParse = { ok: true; cli: AuditCli } | { ok: false; issues: string[] } | { ok: 'help' };

export function parseAuditArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): AuditParse {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        dump: { type: 'string' },
        source: { type: 'string' },
        auditors: { type: 'string' },
        threshold: { type: 'string' },
        iou: { type: 'string' },
        'not-faces': { type: 'string' },
        json: { type: 'string' },
        leaks: { type: 'string' },
        'models-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { ok: false, issues: [(err as Error).message] };
  }
  if (values.help) return { ok: 'help' };
  const s = (k: string) => values[k] as string | undefined;
  const issues: string[] = [];
  const fraction = (name: string, fallback: number) => {
    const raw = s(name);
    const v = raw === undefined ? fallback : Number(raw);
    if (!(v >= 0 && v <= 1)) issues.push(`--${name} must be in [0, 1], got "${raw}"`);
    return v;
  };
  if (!s('dump')) issues.push('--dump <dir> is required');
  if (!s('source')) issues.push('--source <dir> is required');
  const auditors = (s('auditors') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  for (const a of auditors) if (!FACE_IDS.includes(a)) issues.push(`--auditors: unknown face model "${a}"`);
  const leaks = Number(s('leaks') ?? 30);
  if (!(Number.isInteger(leaks) && leaks >= 0))
    issues.push(`--leaks must be a whole number, got "${s('leaks')}"`);
  const cli: AuditCli = {
    dump: s('dump') ?? '',
    source: s('source') ?? '',
    auditors,
    threshold: fraction('threshold', AUDIT_THRESHOLD),
    iou: fraction('iou', AUDIT_IOU),
    notFaces: s('not-faces'),
    json: s('json'),
    leaks,
    modelsDir: resolveModelsDir({ configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR }),
  };
  return issues.length > 0 ? { ok: false, issues } : { ok: true, cli };
}

/** Opens the auditors, audits the dump and summarizes it; throws AuditError / ModelLoadError. */
export async function runAudit(
  cli: AuditCli,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<AuditReport> {
  const ids = cli.auditors.length > 0 ? cli.auditors : defaultAuditorIds(await readDumpIndex(cli.dump));
  if (ids.length === 0) {
    throw new AuditError('AUDIT_INDEX', 'the redaction used every face model: name --auditors to audit with');
  }
  const notFaces: NotFaces | undefined = cli.notFaces ? await readNotFaces(cli.notFaces) : undefined;
  const detectors: Detector[] = [];
  try {
    for (const id of ids) detectors.push(await openDetector({ id, modelsDir: cli.modelsDir }));
    const auditors = detectors.map((detector) => ({ detector, threshold: cli.threshold }));
    const { payloads, unaudited } = await auditDump({
      dumpDir: cli.dump,
      sourceDir: cli.source,
      auditors,
      minIou: cli.iou,
      ...(notFaces ? { notFaces } : {}),
      ...options,
    });
    return summarizeAudit(payloads, {
      dump: cli.dump,
      source: cli.source,
      auditors: ids.map((id) => ({ id, threshold: cli.threshold })),
      minIou: cli.iou,
      unaudited,
    });
  } finally {
    for (const d of detectors) await d.close();
  }
}

/** What the audit sub-command writes and how it ends, for main.ts (the only module with `process`). */
export async function auditCommand(
  argv: readonly string[],
  io: {
    env: Readonly<Record<string, string | undefined>>;
    stdout: { write(s: string): unknown };
    stderr: { write(s: string): unknown };
    signal?: AbortSignal;
  },
): Promise<number> {
  const parsed = parseAuditArgs(argv, io.env);
  if (parsed.ok === 'help') {
    io.stdout.write(AUDIT_HELP);
    return 0;
  }
  if (!parsed.ok) {
    io.stderr.write(
      `squeezegate-edge audit: invalid options\n${parsed.issues.map((i) => `  - ${i}`).join('\n')}\n\nSee squeezegate-edge audit --help.\n`,
    );
    return 2;
  }
  try {
    const report = await runAudit(parsed.cli, io.signal ? { signal: io.signal } : {});
    io.stdout.write(formatAudit(report, { maxLeaks: parsed.cli.leaks }));
    if (parsed.cli.json) await writeFile(parsed.cli.json, `${JSON.stringify(report, null, 2)}\n`);
    return report.targets.met ? 0 : AUDIT_LEAKS_EXIT;
  } catch (err) {
    io.stderr.write(`squeezegate-edge audit: ${(err as Error).message}\n`);
    if (err instanceof ModelLoadError) return 3;
    if (err instanceof AuditError || (err as NodeJS.ErrnoException).code === 'ENOENT') return 4;
    return 1;
  }
}
