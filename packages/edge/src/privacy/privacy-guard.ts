import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Box, Detector, PrivacyConfig, RawImage } from '@squeezegate/shared';
import { type Cut, type Frame, padBox, renderPayload } from './redact.ts';

/**
 * Faces found in the whole frame, searched once however many payloads the frame sends. Only
 * `withhold` needs it (is there a face anywhere?); to blur or pixelate, each payload is searched
 * at its own scale when it is rendered.
 */
export interface FaceScan {
  /** Padded face boxes in frame pixels. */
  faces: readonly Box[];
  scanMs: number;
}

/** What was done to a payload before it left (the ledger's `redactions`). */
export interface RedactionSummary {
  faces: number;
  faceMode: PrivacyConfig['faces'];
  masks: number;
  /** Re-encoded payloads are written from pixels: no EXIF, ICC or XMP; only `original` with privacy off keeps them. */
  metadata: 'stripped' | 'kept';
}

export type GuardedPayload =
  | { kind: 'payload'; bytes: Buffer; redactions: RedactionSummary; renderMs: number }
  /** `faces: withhold` and the frame shows a face: nothing leaves. */
  | { kind: 'withheld'; faces: number };

/** One line of the privacy ledger: a payload that left the device. */
export interface LedgerEntry {
  at: string;
  frameId: string;
  /** The envelope's id (the frame's id, or the frame's id with the object's suffix). */
  payloadId: string;
  /** What was sent: the frame's crop, a downscaled frame, the full frame, or an object's crop. */
  payload: 'crop' | 'frame' | 'original' | 'object';
  bytes: number;
  /** The decision that sent it. */
  reason: string;
  redactions: RedactionSummary;
}

export interface PrivacyGuard {
  readonly config: Readonly<PrivacyConfig>;
  /** Faces or masks are configured: every payload is cut from decoded pixels and redacted. */
  readonly active: boolean;
  /** Finds the faces anywhere in the frame (with `faces: withhold`; otherwise nothing to do). */
  scan(image: RawImage): Promise<FaceScan>;
  /**
   * Cuts, redacts and encodes one payload of a frame (from `cutPixels` when given: then the
   * frame's pixels are not needed); a `withhold` scan that found faces withholds it.
   */
  render(
    image: Frame,
    scan: FaceScan,
    cut: Cut,
    quality: number,
    cutPixels?: Buffer,
  ): Promise<GuardedPayload>;
  /** Writes a ledger line for a payload that left. */
  record(entry: Omit<LedgerEntry, 'at'>): void;
  /** Payloads recorded so far. */
  readonly recorded: number;
  close(): Promise<void>;
}

export interface PrivacyGuardOptions {
  config: Readonly<PrivacyConfig>;
  /** The face detector; required unless faces are off. */
  faceDetector: Detector | null;
  /** A ledger write failed after it was opened (disk full…); the payloads already left. */
  onLedgerError?: (err: Error) => void;
}

/** The privacy ledger cannot be opened: the agent must not send what it cannot account for. */
export class PrivacyLedgerError extends Error {
  override readonly name = 'PrivacyLedgerError';
  readonly code = 'PRIVACY_LEDGER';
}

export async function createPrivacyGuard(options: PrivacyGuardOptions): Promise<PrivacyGuard> {
  const { config, faceDetector } = options;
  if (config.faces !== 'off' && !faceDetector) {
    throw new Error(`privacy.faces is ${config.faces} but no face detector was given`);
  }
  let ledger: WriteStream | null = null;
  if (config.ledger) {
    const file = config.ledger;
    const handle = await open(file, 'a').catch((cause: unknown) => {
      throw new PrivacyLedgerError(`cannot open the privacy ledger ${file}: ${(cause as Error).message}`, {
        cause,
      });
    });
    ledger = handle.createWriteStream();
    ledger.on('error', (err) => options.onLedgerError?.(err));
  }
  let recorded = 0;
  const findFaces = async (image: RawImage): Promise<Box[]> => {
    if (!faceDetector) return [];
    const { detections } = await faceDetector.detect(image, { scoreThreshold: config.faceThreshold });
    return detections.map((d) => padBox(d.box, config.facePadding, image));
  };
  return {
    config,
    active: config.faces !== 'off' || config.masks.length > 0,
    get recorded() {
      return recorded;
    },
    async scan(image) {
      if (config.faces !== 'withhold' || !faceDetector) return { faces: [], scanMs: 0 };
      const start = performance.now();
      return { faces: await findFaces(image), scanMs: performance.now() - start };
    },
    async render(image, scan, cut, quality, cutPixels) {
      if (config.faces === 'withhold' && scan.faces.length > 0) {
        return { kind: 'withheld', faces: scan.faces.length };
      }
      const start = performance.now();
      const rendered = await renderPayload(
        image,
        cut,
        {
          mode: config.faces === 'pixelate' ? 'pixelate' : 'blur',
          masks: config.masks,
          ...(config.faces === 'off' ? {} : { findFaces }),
        },
        quality,
        cutPixels,
      );
      return {
        kind: 'payload',
        bytes: rendered.bytes,
        redactions: {
          faces: rendered.faces,
          faceMode: config.faces,
          masks: rendered.masks,
          metadata: 'stripped',
        },
        renderMs: performance.now() - start,
      };
    },
    record(entry) {
      recorded++;
      ledger?.write(`${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
    },
    async close() {
      if (!ledger || ledger.closed) return;
      ledger.end();
      await once(ledger, 'close');
    },
  };
}
