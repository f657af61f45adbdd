/**
 * `squeezegate-edge audit`: every payload of a dump, against the source frames it was cut from.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Box, DETECTORS, decodeImage, faceSearchModels, type RawImage } from '@squeezegate/shared';
import { DUMP_INDEX, type DumpEntry, DumpEntrySchema } from '../privacy/payload-dump.ts';
import { cutFrom } from '../privacy/redact.ts';
import { type Auditor, auditPayload } from './audit-payload.ts';
import type { AuditedFace } from './match.ts';
import type { NotFaces } from './not-faces.ts';

export const AuditErrorCode = { INDEX: 'AUDIT_INDEX', SOURCE: 'AUDIT_SOURCE' } as const;

/** The dump or the source cannot be read as an audit needs them. */
export class AuditError extends Error {
  override readonly name = 'AuditError';
  constructor(
    readonly code: (typeof AuditErrorCode)[keyof typeof AuditErrorCode],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The dump's index, one entry per payload file (a file written twice: its last line). */
export async function readDumpIndex(dir: string): Promise<DumpEntry[]> {
  const file = path.join(dir, DUMP_INDEX);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new AuditError(AuditErrorCode.INDEX, `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const byFile = new Map<string, DumpEntry>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: ReturnType<typeof DumpEntrySchema.safeParse>;
    try {
      parsed = DumpEntrySchema.safeParse(JSON.parse(line));
    } catch {
      throw new AuditError(AuditErrorCode.INDEX, `${file} line ${i + 1} is not JSON`);
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AuditError(
        AuditErrorCode.INDEX,
        `${file} line ${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message}`,
      );
    }
    byFile.set(parsed.data.file, parsed.data);
  }
  return [...byFile.values()];
}

/**
 * The face models an audit of these payloads should use: every catalogued face model that none of
 * the payloads' face searches ran (all of them when no faces were searched).
 */
export function defaultAuditorIds(entries: readonly DumpEntry[]): string[] {
  const used = new Set(
    entries.flatMap((e) => (e.redactions.faceModel ? faceSearchModels(e.redactions.faceModel) : [])),
  );
  return DETECTORS.filter((d) => d.role === 'face' && !used.has(d.id)).map((d) => d.id);
}

/** Which task sent a payload: object crops, and frames with a `#` payload id, are the detect task's. */
export const taskOf = (e: DumpEntry): 'classify' | 'detect' =>
  e.kind === 'object' || e.payloadId.includes('#') ? 'detect' : 'classify';

const EXTENSIONS = ['', '.jpg', '.jpeg', '.png', '.webp'];

async function sourceFile(dir: string, name: string): Promise<string | null> {
  for (const ext of EXTENSIONS) {
    const file = path.join(dir, `${name}${ext}`);
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return null;
}

/** A leak, with where to look: the payload's box and the source frame's. */
export interface Leak {
  file: string;
  source: string;
  kind: DumpEntry['kind'];
  task: 'classify' | 'detect';
  frameId: string;
  payloadId: string;
  width: number;
  box: Box;
  sourceBox: Box;
  foundBy: string[];
  stillFoundBy: string[];
}

export interface AuditedDumpPayload {
  entry: DumpEntry;
  task: 'classify' | 'detect';
  width: number;
  height: number;
  faces: AuditedFace[];
  byAuditor: Map<string, AuditedFace[]>;
  leaks: Leak[];
  excluded: number;
}

export interface AuditDumpOptions {
  dumpDir: string;
  sourceDir: string;
  auditors: readonly Auditor[];
  minIou?: number;
  notFaces?: NotFaces;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Audits every payload of a dump; payloads whose source frame is missing are listed, not audited. */
export async function auditDump(options: AuditDumpOptions): Promise<{
  payloads: AuditedDumpPayload[];
  unaudited: { file: string; reason: string }[];
}> {
  const { dumpDir, sourceDir, auditors, minIou, notFaces, signal, onProgress } = options;
  const entries = await readDumpIndex(dumpDir);
  const payloads: AuditedDumpPayload[] = [];
  const unaudited: { file: string; reason: string }[] = [];
  const sources = new Map<string, RawImage>();
  for (const [i, entry] of entries.entries()) {
    signal?.throwIfAborted();
    const file = await sourceFile(sourceDir, entry.source);
    if (!file) {
      unaudited.push({ file: entry.file, reason: `no source frame ${entry.source} in ${sourceDir}` });
      continue;
    }
    // Frames of a detect payload come one after another: keep the last source decoded.
    let source = sources.get(file);
    if (!source) {
      sources.clear();
      source = await decodeImage(file);
      sources.set(file, source);
    }
    const after = await decodeImage(path.join(dumpDir, entry.file)).catch((cause: unknown) => {
      throw new AuditError(AuditErrorCode.INDEX, `cannot decode ${entry.file}: ${(cause as Error).message}`, {
        cause,
      });
    });
    const cut = { region: entry.region, width: after.width, height: after.height };
    const before: RawImage = { pixels: await cutFrom(source, cut), width: after.width, height: after.height };
    const sx = entry.region.width / after.width;
    const sy = entry.region.height / after.height;
    const toSource = (b: Box): Box => [
      entry.region.left + b[0] * sx,
      entry.region.top + b[1] * sy,
      entry.region.left + b[2] * sx,
      entry.region.top + b[3] * sy,
    ];
    const audit = await auditPayload({
      before,
      after,
      auditors,
      ...(minIou === undefined ? {} : { minIou }),
      ...(notFaces ? { notFaces: { list: notFaces, source: entry.source, toSource } } : {}),
    });
    const task = taskOf(entry);
    payloads.push({
      entry,
      task,
      width: after.width,
      height: after.height,
      faces: audit.faces,
      byAuditor: audit.byAuditor,
      excluded: audit.excluded.length,
      leaks: audit.faces
        .filter((f) => f.stillFoundBy.length > 0)
        .map((f) => ({
          file: entry.file,
          source: entry.source,
          kind: entry.kind,
          task,
          frameId: entry.frameId,
          payloadId: entry.payloadId,
          width: f.width,
          box: f.box,
          sourceBox: toSource(f.box),
          foundBy: f.foundBy,
          stillFoundBy: f.stillFoundBy,
        })),
    });
    onProgress?.(i + 1, entries.length);
  }
  return { payloads, unaudited };
}
