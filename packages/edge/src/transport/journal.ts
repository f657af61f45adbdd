import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Frames waiting for the cloud, on disk: each holds the record the frame gets if the cloud never
 * answers (its local answer). When the agent is killed while frames wait (in flight or spooled),
 * the next start finds them here and records them, so no frame ever goes without its result.
 */
export interface Journal {
  /** Records left by a previous process that stopped before their frames were answered. */
  readonly recovered: readonly Recovered[];
  /** Keeps a frame's fallback record until `release`. */
  hold(frameId: string, record: object): Promise<void>;
  /** The frame has its final record: forget the fallback. */
  release(frameId: string): Promise<void>;
}

export interface Recovered {
  frameId: string;
  /** The fallback record as held; the caller marks it interrupted and writes it. */
  record: Record<string, unknown>;
  /** Forgets the entry once its record is written (until then a new kill keeps it). */
  release(): Promise<void>;
}

/** The cloud outcome of a frame recovered from the journal. */
export const INTERRUPTED = {
  status: 'interrupted',
  reason: 'the agent stopped before the cloud answered; the local answer stands',
} as const;

const fileOf = (dir: string, frameId: string) => path.join(dir, `${encodeURIComponent(frameId)}.json`);

/**
 * Opens the journal directory and takes over what a previous process left in it: each entry is
 * read and returned in `recovered`, to be released once written (a corrupt entry, cut by the
 * kill before its frame was sent, is removed).
 */
export async function openJournal(dir: string): Promise<Journal> {
  await mkdir(dir, { recursive: true });
  const recovered: Recovered[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    const release = () => rm(file, { force: true });
    try {
      const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      recovered.push({ frameId: decodeURIComponent(name.slice(0, -'.json'.length)), record, release });
    } catch {
      // Written only partly when the process died: its frame was never sent, nothing to recover.
      await release();
    }
  }
  return {
    recovered,
    hold: (frameId, record) => writeFile(fileOf(dir, frameId), JSON.stringify(record)),
    release: (frameId) => rm(fileOf(dir, frameId), { force: true }),
  };
}
