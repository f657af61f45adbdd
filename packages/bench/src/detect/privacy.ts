import { readFile } from 'node:fs/promises';
import {
  AUDIT_THRESHOLD,
  auditPayload,
  type Cut,
  classificationCut,
  type FaceScan,
  type PrivacyGuard,
  type SourceFrame,
} from '@squeezegate/edge';
import {
  type Box,
  type Classifier,
  type Detector,
  decodeImage,
  iou,
  type ModelSpec,
  type PayloadEncoding,
  type RawImage,
  toModelView,
  topK,
} from '@squeezegate/shared';
import type { AccuracyRow, PrivacyAccuracySection, RedactionRow } from './results.ts';
import { mean, ratio, spread } from './stats.ts';

/** A payload kind section 4 times: a name for the table and how it is cut from a frame. */
export interface PayloadKind {
  name: string;
  /** How its faces are obscured. */
  mode: 'blur' | 'pixelate';
  cut: (frame: { width: number; height: number }) => Cut;
}

/** The two payloads of section 4: the whole frame at `shortSide` and the classifier's centre crop. */
export function redactionPayloads(
  shortSide: number,
  edgeView: { resizeShortSide: number; centerCrop: number },
): PayloadKind[] {
  return (['blur', 'pixelate'] as const).flatMap((mode) => [
    {
      name: `frame at ${shortSide} px short side, ${mode}`,
      mode,
      cut: (frame: { width: number; height: number }) =>
        classificationCut('frame', frame, { resizeShortSide: shortSide, centerCrop: shortSide }),
    },
    {
      name: `${edgeView.centerCrop} crop, ${mode}`,
      mode,
      cut: (frame: { width: number; height: number }) => classificationCut('crop', frame, edgeView),
    },
  ]);
}

/** Faces in `before` that a box in `after` still overlaps at IoU ≥ `minIou`. */
export function stillFound(before: readonly Box[], after: readonly Box[], minIou: number): number {
  return before.filter((b) => after.some((a) => iou(a, b) >= minIou)).length;
}

export interface PrivacyGuards {
  /** Faces off: the payload without redaction. */
  plain: PrivacyGuard;
  blur: PrivacyGuard;
  pixelate: PrivacyGuard;
}

export interface PrivacyOptions {
  guards: PrivacyGuards;
  /**
   * The guards' face model. Without `auditors` it is run again at its own threshold for the
   * residual check, which then only sees the faces the redaction saw (circular, issue 15).
   */
  faceDetector: Detector;
  /**
   * The residual check's auditors: face models the redaction did not use (defaultAuditorIds of
   * the dump, e.g. UltraFace-640 for yunet-s+ultraface-rfb320), at `auditThreshold`. A face
   * they find in the plain payload and still find (IoU ≥ residualIou) in the redacted one leaked.
   */
  auditors?: readonly Detector[];
  /** Default AUDIT_THRESHOLD (0.6, the audit). */
  auditThreshold?: number;
  /** The classify agent's payload codec and quality. */
  encoding: PayloadEncoding;
  runs: number;
  payloads: readonly PayloadKind[];
  residualIou: number;
}

const NO_FACES: FaceScan = { faces: [], scanMs: 0 };

interface PayloadSamples {
  /** Render with redaction minus render without, per run: what privacy adds to the payload. */
  extraMs: number[];
  plain: Buffer;
  redacted: Buffer;
  faces: number;
}

async function render(guard: PrivacyGuard, image: RawImage, cut: Cut, encoding: PayloadEncoding) {
  const out = await guard.render(image, NO_FACES, cut, encoding);
  if (out.kind !== 'payload')
    throw new Error('the privacy bench renders with faces obscured, never withheld');
  return out;
}

/**
 * `runs` times, per payload, the render without and with redaction (the face search on the
 * payload and the obscuring); what privacy costs a payload is the difference.
 */
async function redactImage(image: RawImage, options: PrivacyOptions): Promise<PayloadSamples[]> {
  const { guards, encoding, runs, payloads } = options;
  const samples: PayloadSamples[] = [];
  // One payload at a time: the timings must not share the cores.
  for (const payload of payloads) {
    const cut = payload.cut(image);
    const extraMs: number[] = [];
    let first: Omit<PayloadSamples, 'extraMs'> | undefined;
    for (let r = 0; r < runs; r++) {
      const plain = await render(guards.plain, image, cut, encoding);
      const redacted = await render(guards[payload.mode], image, cut, encoding);
      extraMs.push(redacted.renderMs - plain.renderMs);
      first ??= { plain: plain.bytes, redacted: redacted.bytes, faces: redacted.redactions.faces };
    }
    samples.push({ extraMs, ...first! });
  }
  return samples;
}

async function residual(options: PrivacyOptions, plain: Buffer, redacted: Buffer) {
  if (options.auditors && options.auditors.length > 0) {
    const threshold = options.auditThreshold ?? AUDIT_THRESHOLD;
    const { faces } = await auditPayload({
      before: await decodeImage(plain),
      after: await decodeImage(redacted),
      auditors: options.auditors.map((detector) => ({ detector, threshold })),
      minIou: options.residualIou,
    });
    return { found: faces.length, stillFound: faces.filter((f) => f.stillFoundBy.length > 0).length };
  }
  const find = async (bytes: Buffer) =>
    (await options.faceDetector.detect(await decodeImage(bytes))).detections.map((d) => d.box);
  const before = await find(plain);
  return { found: before.length, stillFound: stillFound(before, await find(redacted), options.residualIou) };
}

interface PayloadTally {
  extraMs: number[];
  withFaces: number;
  faces: number;
  found: number;
  stillFound: number;
}

/** Accumulates section 4's samples for one set of images. */
class RedactionTally {
  private readonly perPayload: PayloadTally[];
  constructor(
    readonly images: string,
    private readonly options: PrivacyOptions,
  ) {
    this.perPayload = options.payloads.map(() => ({
      extraMs: [] as number[],
      withFaces: 0,
      faces: 0,
      found: 0,
      stillFound: 0,
    }));
  }

  async add(payloads: readonly PayloadSamples[]): Promise<void> {
    for (const [k, p] of payloads.entries()) {
      const t = this.perPayload[k]!;
      t.extraMs.push(...p.extraMs);
      t.faces += p.faces;
      if (p.faces > 0) t.withFaces++;
      const check = await residual(this.options, p.plain, p.redacted);
      t.found += check.found;
      t.stillFound += check.stillFound;
    }
  }

  rows(): RedactionRow[] {
    return this.options.payloads.map((payload, k) => {
      const t = this.perPayload[k]!;
      return {
        images: this.images,
        payload: payload.name,
        samples: t.extraMs.length,
        redactionMs: spread(t.extraMs),
        payloadsWithFaces: t.withFaces,
        facesObscured: t.faces,
        residual: { found: t.found, stillFound: t.stillFound },
      };
    });
  }
}

/** Section 4 over decoded images (the face photos). */
export async function measureRedaction(
  images: readonly RawImage[],
  label: string,
  options: PrivacyOptions,
): Promise<RedactionRow[]> {
  const tally = new RedactionTally(label, options);
  await redactImage(images[0]!, { ...options, runs: 1 });
  for (const image of images) await tally.add(await redactImage(image, options));
  return tally.rows();
}

/**
 * Sections 4 and 5 in one pass over labelled ImageNet frames: the redaction cost, then the cloud
 * classifier on the crop payload (JPEG, cut and resized as the edge cuts it) plain, blurred and
 * pixelated. `classified` (one of `options.payloads`) is the payload the classifier is given.
 */
export async function measureImagenet(
  frames: readonly SourceFrame[],
  label: string,
  options: PrivacyOptions & {
    classifier: Classifier;
    cloud: ModelSpec;
    classified: PayloadKind;
    /** More blurring guards (other face thresholds), classified on the same crops. */
    sweep?: readonly { name: string; guard: PrivacyGuard }[];
  },
): Promise<{
  cost: RedactionRow[];
  /** With `changed`: what a reviewer looks at to tell people's faces from animals and false alarms. */
  accuracy: Omit<PrivacyAccuracySection, 'classifier'>;
}> {
  const { guards, classifier, cloud, encoding, classified } = options;
  const at = options.payloads.indexOf(classified);
  if (at < 0) throw new Error('the classified payload must be one of the timed payloads');
  const tally = new RedactionTally(label, options);
  const sweep = options.sweep ?? [];
  const modes = ['off', 'blur', 'pixelate', ...sweep.map((s) => s.name)];
  // Correct answers on the crops where a face was obscured (in the default mode), and on the others.
  const right: Record<string, [number, number]> = Object.fromEntries(modes.map((m) => [m, [0, 0]]));
  const bytes: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
  const changed: Record<string, { lost: string[]; gained: string[] }> = Object.fromEntries(
    modes.filter((m) => m !== 'off').map((m) => [m, { lost: [], gained: [] }]),
  );
  let payloadsWithFaces = 0;
  let warm = false;
  for (const frame of frames) {
    const image = await decodeImage(await readFile(frame.file));
    if (!warm) {
      await redactImage(image, { ...options, runs: 1 });
      warm = true;
    }
    const r = await redactImage(image, options);
    await tally.add(r);
    const crop = r[at]!;
    // The classified crop is redacted in the default mode; the other mode is rendered here.
    const other = classified.mode === 'blur' ? 'pixelate' : 'blur';
    const otherBytes = (await render(guards[other], image, classified.cut(image), encoding)).bytes;
    const payload: Record<string, Buffer> = {
      off: crop.plain,
      [classified.mode]: crop.redacted,
      [other]: otherBytes,
    };
    for (const s of sweep)
      payload[s.name] = (await render(s.guard, image, classified.cut(image), encoding)).bytes;
    if (crop.faces > 0) payloadsWithFaces++;
    const views = [];
    for (const mode of modes) {
      bytes[mode]!.push(payload[mode]!.length);
      views.push(await toModelView(payload[mode]!, { preprocess: cloud.preprocess, view: 'crop' }));
    }
    const results = await classifier.classify(views);
    const correct = results.map((r) => topK(r.probs, 1)[0]?.index === frame.truth);
    for (const [k, mode] of modes.entries()) {
      if (correct[k]) right[mode]![crop.faces > 0 ? 0 : 1]++;
      if (mode === 'off' || correct[k] === correct[0]) continue;
      changed[mode]![correct[0] ? 'lost' : 'gained'].push(frame.name);
    }
  }
  const withFaces = payloadsWithFaces;
  const others = frames.length - withFaces;
  const top1 = (mode: string) => (right[mode]![0] + right[mode]![1]) / frames.length;
  const rows: AccuracyRow[] = modes.map((mode) => ({
    faces: mode,
    top1: top1(mode),
    vsPlain: ratio(top1(mode), top1('off')),
    top1WithFaces: withFaces > 0 ? right[mode]![0] / withFaces : null,
    top1Others: others > 0 ? right[mode]![1] / others : null,
    meanBytes: mean(bytes[mode]!),
  }));
  return {
    cost: tally.rows(),
    accuracy: { images: frames.length, payloadsWithFaces, rows, changed },
  };
}
