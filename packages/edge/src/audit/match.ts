/**
 * The audit's arithmetic, free of models and files: which faces an auditor found before
 * redaction it still finds after, merged over auditors, tallied by face width.
 */
import { type Box, iou } from '@squeezegate/shared';

/** A face an auditor reports, in the payload's pixels. */
export interface FoundFace {
  box: Box;
  score: number;
}

/** Face-width bins of the report, in payload pixels: [min, max). */
export const WIDTH_BINS = [
  { label: '< 16 px', min: 0, max: 16 },
  { label: '16–32 px', min: 16, max: 32 },
  { label: '32–64 px', min: 32, max: 64 },
  { label: '≥ 64 px', min: 64, max: Number.POSITIVE_INFINITY },
] as const;

/**
 * The recall targets (issue 15) split at this width: no leak at all from here up, at most
 * `MAX_SMALL_LEAK_SHARE` of the faces below.
 */
export const LARGE_FACE_PX = 24;
export const MAX_SMALL_LEAK_SHARE = 0.02;

export const widthOf = (box: Box) => box[2] - box[0];

export function binOf(width: number): number {
  const k = WIDTH_BINS.findIndex((b) => width >= b.min && width < b.max);
  return Math.max(0, k);
}

/** A face some auditor saw before redaction, and who still sees it after. */
export interface AuditedFace {
  /** The highest-scored auditor box of the face, before redaction. */
  box: Box;
  width: number;
  /** Auditors that found it before redaction. */
  foundBy: string[];
  /** Auditors that still find it after (IoU ≥ the audit's threshold): a leak when not empty. */
  stillFoundBy: string[];
  /** The box found after, by the first auditor that still finds it. */
  after?: Box;
}

/**
 * Merges what each auditor found before and after redaction into faces: boxes of different
 * auditors overlapping at `minIou` or more are one face (greedy, highest score first), and a face
 * leaks when any auditor that found it before still finds a box over it after.
 */
export function auditFaces(
  perAuditor: ReadonlyMap<string, { before: readonly FoundFace[]; after: readonly FoundFace[] }>,
  minIou: number,
): AuditedFace[] {
  const all = [...perAuditor.entries()].flatMap(([auditor, found]) =>
    found.before.map((face) => ({ auditor, face })),
  );
  all.sort((a, b) => b.face.score - a.face.score);
  const faces: (AuditedFace & { members: { auditor: string; box: Box }[] })[] = [];
  for (const { auditor, face } of all) {
    const same = faces.find((f) => iou(f.box, face.box) >= minIou);
    if (same) {
      if (!same.foundBy.includes(auditor)) same.foundBy.push(auditor);
      same.members.push({ auditor, box: face.box });
      continue;
    }
    faces.push({
      box: face.box,
      width: widthOf(face.box),
      foundBy: [auditor],
      stillFoundBy: [],
      members: [{ auditor, box: face.box }],
    });
  }
  for (const face of faces) {
    for (const { auditor, box } of face.members) {
      if (face.stillFoundBy.includes(auditor)) continue;
      const hit = perAuditor.get(auditor)?.after.find((a) => iou(a.box, box) >= minIou);
      if (!hit) continue;
      face.stillFoundBy.push(auditor);
      face.after ??= hit.box;
    }
  }
  return faces.map(({ members: _, ...face }) => face);
}

/** Faces before and still found after, per width bin, and against the targets. */
export interface AuditTally {
  faces: number;
  leaked: number;
  /** One entry per WIDTH_BINS bin. */
  bins: { label: string; faces: number; leaked: number }[];
  /** Faces at least LARGE_FACE_PX wide, and how many of them leaked (target: 0). */
  large: { faces: number; leaked: number };
  /** Faces under LARGE_FACE_PX, how many leaked (target: at most 2 % of them). */
  small: { faces: number; leaked: number };
}

export function emptyTally(): AuditTally {
  return {
    faces: 0,
    leaked: 0,
    bins: WIDTH_BINS.map((b) => ({ label: b.label, faces: 0, leaked: 0 })),
    large: { faces: 0, leaked: 0 },
    small: { faces: 0, leaked: 0 },
  };
}

/** Adds faces to a tally (in place) and returns it. */
export function tally(into: AuditTally, faces: readonly Pick<AuditedFace, 'width' | 'stillFoundBy'>[]) {
  for (const face of faces) {
    const leaked = face.stillFoundBy.length > 0 ? 1 : 0;
    into.faces++;
    into.leaked += leaked;
    const bin = into.bins[binOf(face.width)]!;
    bin.faces++;
    bin.leaked += leaked;
    const side = face.width >= LARGE_FACE_PX ? into.large : into.small;
    side.faces++;
    side.leaked += leaked;
  }
  return into;
}

/** Whether a tally meets the targets: no large face leaked, at most 2 % of the small ones. */
export function meetsTargets(t: AuditTally): boolean {
  return t.large.leaked === 0 && t.small.leaked <= MAX_SMALL_LEAK_SHARE * t.small.faces;
}
