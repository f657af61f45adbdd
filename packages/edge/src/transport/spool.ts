import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A bounded, disk-backed spool for frame envelopes that must be offloaded while the gateway is
 * unreachable: the bytes wait on disk (not in memory), at most `maxBytes` of them; the link
 * sends them after it reconnects, or gives them up after the time-to-live.
 */
export interface Spool {
  readonly ttlMs: number;
  /** Stores an envelope; false when the spool is full (the frame then keeps its local answer). */
  put(frameId: string, envelope: Buffer): Promise<boolean>;
  take(frameId: string): Promise<Buffer | null>;
  remove(frameId: string): Promise<void>;
  readonly bytes: number;
  readonly frames: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  ttlMs: number;
}

const fileOf = (dir: string, frameId: string) => path.join(dir, `${encodeURIComponent(frameId)}.frame`);

/** Opens the spool directory; envelopes left by an earlier process are stale and removed. */
export async function openSpool(options: SpoolOptions): Promise<Spool & { stale: number }> {
  const { dir, maxBytes, ttlMs } = options;
  await mkdir(dir, { recursive: true });
  const leftovers = (await readdir(dir)).filter((f) => f.endsWith('.frame'));
  await Promise.all(leftovers.map((f) => rm(path.join(dir, f), { force: true })));
  const sizes = new Map<string, number>();
  let bytes = 0;
  return {
    ttlMs,
    stale: leftovers.length,
    async put(frameId, envelope) {
      if (bytes + envelope.length > maxBytes) return false;
      bytes += envelope.length;
      sizes.set(frameId, envelope.length);
      await writeFile(fileOf(dir, frameId), envelope);
      return true;
    },
    async take(frameId) {
      try {
        return await readFile(fileOf(dir, frameId));
      } catch {
        return null;
      }
    },
    async remove(frameId) {
      const size = sizes.get(frameId);
      if (size === undefined) return;
      sizes.delete(frameId);
      bytes -= size;
      await rm(fileOf(dir, frameId), { force: true });
    },
    get bytes() {
      return bytes;
    },
    get frames() {
      return sizes.size;
    },
  };
}
