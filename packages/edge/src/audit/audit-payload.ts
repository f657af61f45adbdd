/**
 * One payload under audit: the auditors look for faces in its unredacted equivalent (the same
 * cut of the source frame) and in the payload as it left; a face they found before and still
 * find after (IoU ≥ 0.3) is a leak.
 */
import type { Box, Detector, RawImage } from '@squeezegate/shared';
import { type AuditedFace, auditFaces, type FoundFace } from './match.ts';
import type { NotFace, NotFaces } from './not-faces.ts';

/** A face detector the redaction did not use, and the score at which its faces count. */
export interface Auditor {
  detector: Detector;
  threshold: number;
}

/** The audit's default face score: the audit, and OpenCV Zoo's YuNet default. */
export const AUDIT_THRESHOLD = 0.6;
/** A face found after redaction is the same face when it overlaps the one before this much. */
export const AUDIT_IOU = 0.3;

/** Every detector runs at the payload's own resolution (YuNet: scale 1; the others: their input). */
async function find(auditor: Auditor, image: RawImage): Promise<FoundFace[]> {
  const { detections } = await auditor.detector.detect(image, {
    scoreThreshold: auditor.threshold,
    scale: 1,
  });
  return detections.map((d) => ({ box: d.box, score: d.score }));
}

export interface PayloadAudit {
  /** Faces found before redaction (reviewed non-faces left out), merged over the auditors. */
  faces: AuditedFace[];
  /** The same, auditor by auditor. */
  byAuditor: Map<string, AuditedFace[]>;
  /** Boxes left out as reviewed non-faces. */
  excluded: { auditor: string; box: Box; notFace: NotFace }[];
}

export interface AuditPayloadOptions {
  /** The unredacted equivalent: the same cut of the source frame at the payload's size. */
  before: RawImage;
  /** The payload as it left, decoded. */
  after: RawImage;
  auditors: readonly Auditor[];
  minIou?: number;
  /** Reviewed non-faces, matched in source pixels through `toSource`. */
  notFaces?: { list: NotFaces; source: string; toSource: (box: Box) => Box };
}

export async function auditPayload(options: AuditPayloadOptions): Promise<PayloadAudit> {
  const { before, after, auditors, minIou = AUDIT_IOU, notFaces } = options;
  const found = new Map<string, { before: FoundFace[]; after: FoundFace[] }>();
  const excluded: PayloadAudit['excluded'] = [];
  for (const auditor of auditors) {
    const id = auditor.detector.spec.id;
    const kept: FoundFace[] = [];
    for (const face of await find(auditor, before)) {
      const notFace = notFaces?.list.match(notFaces.source, notFaces.toSource(face.box));
      if (notFace) excluded.push({ auditor: id, box: face.box, notFace });
      else kept.push(face);
    }
    // Nothing found before: nothing can leak, and the redacted payload need not be searched.
    found.set(id, { before: kept, after: kept.length > 0 ? await find(auditor, after) : [] });
  }
  const byAuditor = new Map<string, AuditedFace[]>();
  for (const [id, f] of found) byAuditor.set(id, auditFaces(new Map([[id, f]]), minIou));
  return { faces: auditFaces(found, minIou), byAuditor, excluded };
}
