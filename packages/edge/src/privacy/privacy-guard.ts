import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type {
  Box,
  Detector,
  FrameHeader,
  PayloadEncoding,
  PrivacyConfig,
  RawImage,
} from '@squeezegate/shared';
import { openPayloadDump, type PayloadDump, type SentPayload } from './payload-dump.ts';
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
  | {
      kind: 'payload';
      bytes: Buffer;
      mime: FrameHeader['mime'];
      redactions: RedactionSummary;
      renderMs: number;
    }
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
    /** Codec and quality of the payload; a bare number is a JPEG quality. */
    encoding: PayloadEncoding | number,
    cutPixels?: Buffer,
  ): Promise<GuardedPayload>;
  /**
   * Writes a ledger line for a payload that left, and with `privacy.payloadDump` the payload
   * itself (`sent`: its bytes as sent and where it was cut from) to the dump.
   */
  record(entry: Omit<LedgerEntry, 'at'>, sent?: SentPayload): void;
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
  /** A payload dump write failed (default: onLedgerError). */
  onDumpError?: (err: Error) => void;
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
  let dump: PayloadDump | null = null;
  if (config.payloadDump) {
    const dir = config.payloadDump;
    const onError = options.onDumpError ?? options.onLedgerError;
    dump = await openPayloadDump(dir, onError ? { onError } : {}).catch(async (cause: unknown) => {
      ledger?.end();
      throw new PrivacyLedgerError(`cannot open the payload dump ${dir}: ${(cause as Error).message}`, {
        cause,
      });
    });
  }
  let recorded = 0;
  /** What was obscured in each rendered payload, for its dump line (keyed by the bytes sent). */
  const obscured = new WeakMap<Buffer, { boxes: Box[]; spared: number }>();
  /** The faces to obscure; `note.spared` learns how many candidates a face search spared. */
  const findFaces = async (image: RawImage, note = { spared: 0 }): Promise<Box[]> => {
    if (!faceDetector) return [];
    const result = await faceDetector.detect(image, { scoreThreshold: config.faceThreshold });
    // A face search (several models) also says which candidates it judged not to be a person's.
    note.spared = (result as { spared?: unknown[] }).spared?.length ?? 0;
    return result.detections.map((d) => padBox(d.box, config.facePadding, image));
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
    async render(image, scan, cut, encoding, cutPixels) {
      if (config.faces === 'withhold' && scan.faces.length > 0) {
        return { kind: 'withheld', faces: scan.faces.length };
      }
      const start = performance.now();
      const note = { spared: 0 };
      const rendered = await renderPayload(
        image,
        cut,
        {
          mode: config.faces === 'pixelate' ? 'pixelate' : 'blur',
          masks: config.masks,
          ...(config.faces === 'off' ? {} : { findFaces: (cut: RawImage) => findFaces(cut, note) }),
        },
        encoding,
        cutPixels,
      );
      obscured.set(rendered.bytes, { boxes: rendered.boxes, spared: note.spared });
      return {
        kind: 'payload',
        bytes: rendered.bytes,
        mime: rendered.mime,
        redactions: {
          faces: rendered.faces,
          faceMode: config.faces,
          masks: rendered.masks,
          metadata: 'stripped',
        },
        renderMs: performance.now() - start,
      };
    },
    record(entry, sent) {
      recorded++;
      const at = new Date().toISOString();
      ledger?.write(`${JSON.stringify({ at, ...entry })}\n`);
      if (!dump || !sent) return;
      const seen = obscured.get(sent.bytes);
      dump.write(
        {
          at,
          frameId: entry.frameId,
          payloadId: entry.payloadId,
          kind: entry.payload,
          bytes: sent.bytes.length,
          reason: entry.reason,
          redactions: {
            ...entry.redactions,
            ...(config.faces === 'off' ? {} : { faceModel: config.faceModel }),
            ...(seen ? { boxes: seen.boxes.map((b) => [...b] as [number, number, number, number]) } : {}),
            ...(seen?.spared ? { spared: seen.spared } : {}),
          },
        },
        sent,
      );
    },
    async close() {
      await dump?.close();
      if (!ledger || ledger.closed) return;
      ledger.end();
      await once(ledger, 'close');
    },
  };
}
