import type { FrameHeader, PayloadRedactions } from '@squeezegate/shared';

/**
 * The dashboard's "what left" view (issue 15): the last payloads the gateway received, byte for
 * byte as they came off the wire, with who sent them and why. Held in memory only, bounded by
 * count and by bytes (the oldest go first), so that an operator can see what the devices send
 * without anything being written down.
 */

/** One payload as received, without its bytes. */
export interface PreviewEntry {
  /** This gateway's number for it, counting from 1 since start; the bytes route takes it. */
  n: number;
  /** When the gateway received it, epoch milliseconds. */
  at: number;
  deviceId: string;
  /** The envelope's id: the frame's, or `<frame id>#o<k>` / `#frame` for a detect payload. */
  frameId: string;
  seq: number;
  view: FrameHeader['view'];
  mime: FrameHeader['mime'];
  bytes: number;
  /** The edge's own answer, when it sent one. */
  local: FrameHeader['local'] | null;
  /** Why the edge sent it, and what it obscured first; null from agents that do not say. */
  reason: string | null;
  redactions: PayloadRedactions | null;
}

export interface PreviewStats {
  /** Payloads held now, and their bytes. */
  held: number;
  heldBytes: number;
  /** Payloads received since start, and those too large to keep at all. */
  received: number;
  tooLarge: number;
  /** The bounds. */
  size: number;
  maxBytes: number;
}

export interface PayloadPreview {
  /** Keeps a copy of one payload as received; the oldest go when a bound is passed. */
  add(received: { deviceId: string; header: FrameHeader; image: Uint8Array }): void;
  /** What is held, newest first. */
  list(): PreviewEntry[];
  /** One payload and its bytes, or null once it is gone (or never was). */
  get(n: number): { entry: PreviewEntry; image: Uint8Array<ArrayBuffer> } | null;
  stats(): PreviewStats;
  /** Forgets everything; later payloads are not kept. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface PayloadPreviewOptions {
  /** Payloads held at most. */
  size: number;
  /** Bytes held at most, over all payloads; a payload larger than this alone is not kept. */
  maxBytes: number;
  /** Epoch milliseconds (tests). */
  now?: () => number;
}

export function createPayloadPreview(options: PayloadPreviewOptions): PayloadPreview {
  const { size, maxBytes, now = Date.now } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`payload preview size ${size}`);
  if (!Number.isInteger(maxBytes) || maxBytes < 1)
    throw new RangeError(`payload preview maxBytes ${maxBytes}`);
  // Insertion order is arrival order: the first key is always the oldest.
  const held = new Map<number, { entry: PreviewEntry; image: Uint8Array<ArrayBuffer> }>();
  let heldBytes = 0;
  let received = 0;
  let tooLarge = 0;
  let closed = false;

  const evictOldest = () => {
    const oldest = held.keys().next();
    if (oldest.done) return;
    heldBytes -= held.get(oldest.value)!.image.length;
    held.delete(oldest.value);
  };

  const close = async () => {
    closed = true;
    held.clear();
    heldBytes = 0;
  };

  return {
    add({ deviceId, header, image }) {
      if (closed) return;
      received++;
      if (image.length > maxBytes) {
        tooLarge++;
        return;
      }
      // A copy: the envelope's image is a view on the socket's message, which must not be pinned.
      const copy = new Uint8Array(image);
      const entry: PreviewEntry = {
        n: received,
        at: now(),
        deviceId,
        frameId: header.frameId,
        seq: header.seq,
        view: header.view,
        mime: header.mime,
        bytes: copy.length,
        local: header.local ?? null,
        reason: header.reason ?? null,
        redactions: header.redactions ?? null,
      };
      while (held.size >= size || (held.size > 0 && heldBytes + copy.length > maxBytes)) evictOldest();
      held.set(entry.n, { entry, image: copy });
      heldBytes += copy.length;
    },
    list: () => [...held.values()].reverse().map((p) => ({ ...p.entry })),
    get(n) {
      const p = held.get(n);
      return p ? { entry: { ...p.entry }, image: p.image } : null;
    },
    stats: () => ({ held: held.size, heldBytes, received, tooLarge, size, maxBytes }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
