import {
  decodeImage,
  type PayloadConfig,
  type Preprocess,
  type ShapedPayload,
  shapePayload,
  type toModelView,
} from '@squeezegate/shared';
import type { PrivacyGuard, RedactionSummary } from '../privacy/privacy-guard.ts';
import { classificationCut } from '../privacy/redact.ts';
import type { CapturedFrame } from '../source/frame-source.ts';
import { encodeRaw } from './frame-context.ts';

const round = (ms: number) => Math.round(ms * 100) / 100;
const NO_FACES = { faces: [], scanMs: 0 };

export type PreparedPayload =
  | { kind: 'payload'; shaped: ShapedPayload; redactions: RedactionSummary; redactMs: number }
  | { kind: 'withheld'; faces: number; redactMs: number };

/**
 * What leaves for an offloaded classify frame: with privacy active, cut from the decoded frame with
 * its faces obscured and masks blacked out (or nothing, when the frame shows a face and faces are
 * withheld); otherwise shaped from the captured bytes (a camera frame's, encoded from its pixels).
 */
export async function preparePayload(args: {
  frame: CapturedFrame;
  captured: Buffer | null;
  view: Awaited<ReturnType<typeof toModelView>>;
  payload: PayloadConfig;
  privacy: PrivacyGuard | null;
  preprocess: Preprocess;
  now: () => number;
}): Promise<PreparedPayload> {
  const { frame, captured, view, payload, privacy, preprocess, now } = args;
  if (!privacy?.active) {
    const raw = frame.image.kind === 'raw' ? frame.image.raw : null;
    // A camera frame has no file: its "frame as captured" is the decoded frame, encoded.
    const bytes = captured ?? (await encodeRaw(raw!, payload.quality));
    const shaped = await shapePayload(
      { captured: bytes, view, shortSide: preprocess.resizeShortSide },
      payload,
    );
    const kept = payload.kind === 'original' && shaped.bytes === captured;
    return {
      kind: 'payload',
      shaped,
      redactions: { faces: 0, faceMode: 'off', masks: 0, metadata: kept ? 'kept' : 'stripped' },
      redactMs: 0,
    };
  }
  const start = now();
  // The crop is the classifier's own view (the cloud sees exactly what the edge saw): the frame
  // is decoded again only for the other payloads, or to look for faces anywhere in it.
  const fromView = payload.kind === 'crop';
  const decoded =
    fromView && privacy.config.faces !== 'withhold'
      ? null
      : frame.image.kind === 'raw'
        ? frame.image.raw
        : await decodeImage(captured!);
  const image = decoded ?? view.source;
  const scan = decoded ? await privacy.scan(decoded) : NO_FACES;
  const cut = classificationCut(payload.kind, image, preprocess);
  const out = await privacy.render(image, scan, cut, payload, fromView ? view.pixels : undefined);
  const redactMs = round(now() - start);
  if (out.kind === 'withheld') return { kind: 'withheld', faces: out.faces, redactMs };
  return {
    kind: 'payload',
    shaped: { bytes: out.bytes, view: fromView ? 'crop' : 'full', mime: out.mime },
    redactions: out.redactions,
    redactMs,
  };
}
