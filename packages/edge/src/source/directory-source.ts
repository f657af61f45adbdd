import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { SourceError } from './source-error.ts';

const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;

/** One frame as the camera delivers it: a file and, when the set is labelled, its class. */
export interface SourceFrame {
  seq: number;
  file: string;
  name: string;
  /** Ground-truth class index, when a labels manifest names this file. */
  truth: number | null;
}

export interface DirectorySourceOptions {
  dir: string;
  /** CSV with `file` and `class_index` columns; default `manifest.csv` inside `dir` if present. */
  labels?: string | undefined;
  fps?: number;
  limit?: number | undefined;
  offset?: number;
  stride?: number;
}

export interface DirectorySource {
  readonly frames: readonly SourceFrame[];
  readonly labelled: boolean;
  /** Yields the frames, paced at `fps` (0 = as fast as the consumer takes them). */
  replay(options?: {
    signal?: AbortSignal;
    sleep?: (ms: number) => Promise<void>;
  }): AsyncGenerator<SourceFrame>;
}

export { SourceError };

const LabelRow = z.object({ file: z.string().min(1), class_index: z.coerce.number().int().nonnegative() });

async function readLabels(file: string): Promise<Map<string, number>> {
  const rows: unknown[] = parse(await readFile(file), { columns: true, skip_empty_lines: true, trim: true });
  const labels = new Map<string, number>();
  rows.forEach((row, i) => {
    const parsed = LabelRow.safeParse(row);
    if (!parsed.success)
      throw new SourceError(`${file} row ${i + 2}: needs "file" and a numeric "class_index"`);
    labels.set(parsed.data.file, parsed.data.class_index);
  });
  return labels;
}

/** A directory of images replayed as camera frames, sorted by name. */
export async function openDirectorySource(options: DirectorySourceOptions): Promise<DirectorySource> {
  const { dir, fps = 0, limit, offset = 0, stride = 1 } = options;
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXT.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (cause) {
    throw new SourceError(`cannot read frame directory ${dir}: ${(cause as Error).message}`, { cause });
  }
  if (names.length === 0) throw new SourceError(`no images (.jpg, .jpeg, .png, .webp) in ${dir}`);
  const labelsFile = options.labels ?? path.join(dir, 'manifest.csv');
  let labels: Map<string, number> | null = null;
  try {
    labels = await readLabels(labelsFile);
  } catch (err) {
    if (options.labels !== undefined || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err instanceof SourceError
        ? err
        : new SourceError(`cannot read labels ${labelsFile}: ${(err as Error).message}`);
    }
  }
  const frames = (limit === undefined ? names : names.slice(0, limit))
    .map((name, seq) => ({ seq, file: path.join(dir, name), name, truth: labels?.get(name) ?? null }))
    .filter((f) => f.seq % stride === offset % stride);
  const labelled = labels !== null && frames.some((f) => f.truth !== null);
  const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  return {
    frames,
    labelled,
    async *replay({ signal, sleep = defaultSleep } = {}) {
      const interval = fps > 0 ? 1000 / fps : 0;
      let next = performance.now();
      for (const frame of frames) {
        if (signal?.aborted) return;
        if (interval > 0) {
          const wait = next - performance.now();
          if (wait > 0) await sleep(wait);
          next += interval;
        }
        yield frame;
      }
    },
  };
}
