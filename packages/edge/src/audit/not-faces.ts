/**
 * Reviewed auditor false positives: boxes a person looked at and found not to be a face (the
 * back of a parked van that UltraFace-640 takes for a face, a jacket's back). An audit given
 * such a list leaves them out of its count and says how many it left out; nothing else is
 * excluded, and without a list nothing is.
 */
import { readFile } from 'node:fs/promises';
import { type Box, iou } from '@squeezegate/shared';
import { z } from 'zod';

const Finite = z.number().finite();

export const NotFaceSchema = z
  .object({
    /** The source frame's name; `*` matches any run of characters (`vtest_*.jpg`). */
    source: z.string().min(1),
    /** In the source frame's pixels. */
    box: z.tuple([Finite, Finite, Finite, Finite]),
    /** What it is, for the next reviewer. */
    note: z.string().min(1),
  })
  .strict();
export type NotFace = z.infer<typeof NotFaceSchema>;
export const NotFacesSchema = z.array(NotFaceSchema);

/** A found box is a reviewed non-face when it overlaps one of the same source by this much. */
export const NOT_FACE_IOU = 0.3;

const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

export interface NotFaces {
  readonly entries: readonly NotFace[];
  /** The reviewed non-face a box of `source` (source pixels) is, if any. */
  match(source: string, box: Box): NotFace | undefined;
}

export function notFaces(entries: readonly NotFace[]): NotFaces {
  const compiled = entries.map((e) => ({ e, re: globToRegExp(e.source) }));
  return {
    entries,
    match(source, box) {
      return compiled.find(({ e, re }) => re.test(source) && iou(e.box, box) >= NOT_FACE_IOU)?.e;
    },
  };
}

export async function readNotFaces(file: string): Promise<NotFaces> {
  return notFaces(NotFacesSchema.parse(JSON.parse(await readFile(file, 'utf8'))));
}
