/**
 * `--payload-dump <dir>`: every payload that leaves, written byte for byte as it was sent, and
 * one line per payload in `payloads.jsonl` saying where it was cut from and what was redacted,
 * so that anyone can audit what left (`squeezegate-edge audit`, issue 15).
 */
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const DUMP_INDEX = 'payloads.jsonl';

const Finite = z.number().finite();
const RegionSchema = z
  .object({ left: Finite, top: Finite, width: Finite.positive(), height: Finite.positive() })
  .strict();

/** One line of payloads.jsonl. */
export const DumpEntrySchema = z
  .object({
    at: z.string(),
    /** The payload's file, in the dump folder. */
    file: z.string().min(1),
    frameId: z.string(),
    payloadId: z.string(),
    kind: z.enum(['crop', 'frame', 'original', 'object']),
    /** The source frame's name: its file name in a folder source, `<camera>-<ptsMs>` for video. */
    source: z.string().min(1),
    /** The payload's number within its frame (0 for the one payload of a classified frame). */
    index: z.number().int().nonnegative(),
    /** The part of the source frame the payload shows, in the source frame's pixels. */
    region: RegionSchema,
    bytes: z.number().int().nonnegative(),
    reason: z.string(),
    redactions: z
      .object({
        faces: z.number().int().nonnegative(),
        faceMode: z.enum(['blur', 'pixelate', 'withhold', 'off']),
        masks: z.number().int().nonnegative(),
        metadata: z.enum(['stripped', 'kept']),
        /** The face search that ran (config privacy.faceModel), when faces were searched. */
        faceModel: z.string().optional(),
        /** The obscured face boxes, in the payload's pixels (padded as redacted). */
        boxes: z.array(z.tuple([Finite, Finite, Finite, Finite])).optional(),
        /** Candidates the human check judged not to be a person's face. */
        spared: z.number().int().nonnegative().optional(),
      })
      .strict(),
  })
  .strict();
export type DumpEntry = z.infer<typeof DumpEntrySchema>;

/** What the agent knows of a payload that left, besides its ledger entry. */
export interface SentPayload {
  /** The bytes exactly as sent. */
  bytes: Buffer;
  /** The source frame's name (CapturedFrame.name). */
  source: string;
  /** The payload's number within its frame. */
  index: number;
  /** The cut, in the source frame's pixels. */
  region: DumpEntry['region'];
}

export interface PayloadDump {
  readonly dir: string;
  /** Queues one payload and its index line; failures go to `onError`. */
  write(entry: Omit<DumpEntry, 'file' | 'source' | 'index' | 'region'>, sent: SentPayload): void;
  /** Payloads written so far. */
  readonly written: number;
  /** Waits for queued writes, then closes the index. */
  close(): Promise<void>;
}

/** The payload's file extension, from its magic bytes. */
export function extensionOf(bytes: Buffer): 'jpg' | 'png' | 'webp' | 'bin' {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpg';
  if (bytes.subarray(0, 4).toString('latin1') === '\x89PNG') return 'png';
  if (
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp';
  return 'bin';
}

/**
 * `<source base name>.<n>.<ext>` (`~<k>` after the base for the k-th repeat of a name); the base
 * keeps only characters safe in a file name.
 */
export function dumpFileName(source: string, index: number, bytes: Buffer, repeat = 0): string {
  const base = path.parse(source).name.replace(/[^A-Za-z0-9._-]/g, '_') || 'frame';
  return `${base}${repeat > 0 ? `~${repeat}` : ''}.${index}.${extensionOf(bytes)}`;
}

export async function openPayloadDump(
  dir: string,
  options: { onError?: (err: Error) => void } = {},
): Promise<PayloadDump> {
  await mkdir(dir, { recursive: true });
  const handle = await open(path.join(dir, DUMP_INDEX), 'a');
  const index: WriteStream = handle.createWriteStream();
  index.on('error', (err) => options.onError?.(err));
  const taken = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  let written = 0;
  let closed: Promise<void> | null = null;
  return {
    dir,
    get written() {
      return written;
    },
    write(entry, sent) {
      // A frame and payload number seen before in this run (a looping source, two cameras with
      // one name): keep both.
      const stem = (name: string) => name.slice(0, name.lastIndexOf('.'));
      let file = dumpFileName(sent.source, sent.index, sent.bytes);
      for (let k = 1; taken.has(stem(file)); k++) file = dumpFileName(sent.source, sent.index, sent.bytes, k);
      taken.add(stem(file));
      const line = DumpEntrySchema.parse({
        ...entry,
        file,
        source: sent.source,
        index: sent.index,
        region: sent.region,
      });
      queue = queue
        .then(async () => {
          await writeFile(path.join(dir, file), sent.bytes);
          index.write(`${JSON.stringify(line)}\n`);
          written++;
        })
        .catch((err: unknown) => options.onError?.(err as Error));
    },
    close() {
      closed ??= (async () => {
        await queue;
        index.end();
        await once(index, 'close');
      })();
      return closed;
    },
  };
}
