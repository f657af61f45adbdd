import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileSpec } from './catalog.ts';
import { ModelErrorCode, ModelLoadError } from './errors.ts';
import { verifyFile } from './resolve.ts';

const STALL_MS = 60_000 * 5;

export interface FetchProgress {
  file: string;
  received: number;
  total: number;
}

export type FetchOutcome =
  | { file: string; status: 'present' }
  | { file: string; status: 'downloaded'; url: string; bytes: number }
  | { file: string; status: 'failed'; error: ModelLoadError };

export interface FetchOptions {
  modelsDir: string;
  files: readonly FileSpec[];
  /** Base URL tried first for every file: `${mirror}/${file}`. */
  mirror?: string | undefined;
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
}

function candidateUrls(spec: FileSpec, mirror: string | undefined): string[] {
  // A file in a subfolder (`detection/x.onnx`) sits in the same subfolder under the mirror.
  const encoded = spec.file.split('/').map(encodeURIComponent).join('/');
  const fromMirror = mirror ? [`${mirror.replace(/\/+$/, '')}/${encoded}`] : [];
  return [...fromMirror, ...spec.urls];
}

async function download(
  spec: FileSpec,
  url: string,
  target: string,
  options: Pick<FetchOptions, 'onProgress' | 'signal'>,
): Promise<void> {
  // A stalled server must not hang the fetch: give up after a minute without finishing.
  const timeout = AbortSignal.timeout(STALL_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const res = await fetch(url, { signal });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status} from ${url}`);
  }
  const hash = createHash('sha256');
  let received = 0;
  const part = `${target}.part`;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    options.onProgress?.({ file: spec.file, received, total: spec.bytes });
    // A server sending more than the manifest says is not serving this file.
    if (received > spec.bytes) body.destroy(new Error(`${url} sent more than ${spec.bytes} bytes`));
  });
  try {
    await pipeline(body, createWriteStream(part), { signal });
    const digest = hash.digest('hex');
    if (received !== spec.bytes || digest !== spec.sha256) {
      throw new Error(
        `${url} served ${received} bytes with sha256 ${digest}; expected ${spec.bytes} / ${spec.sha256}`,
      );
    }
    await rename(part, target);
  } finally {
    await rm(part, { force: true });
  }
}

/**
 * Downloads every listed file that is missing or fails its check, trying the mirror then
 * the upstream URLs, verifying size and sha256 before the file takes its final name.
 */
export async function fetchModels(options: FetchOptions): Promise<FetchOutcome[]> {
  const { modelsDir, files, mirror } = options;
  await mkdir(modelsDir, { recursive: true });
  const outcomes: FetchOutcome[] = [];
  for (const spec of files) {
    try {
      await verifyFile(spec, modelsDir);
      outcomes.push({ file: spec.file, status: 'present' });
      continue;
    } catch {
      // missing or corrupted: download below
    }
    const target = path.join(modelsDir, spec.file);
    await mkdir(path.dirname(target), { recursive: true });
    const urls = candidateUrls(spec, mirror);
    const failures: string[] = [];
    let done = false;
    for (const url of urls) {
      try {
        await download(spec, url, target, options);
        outcomes.push({ file: spec.file, status: 'downloaded', url, bytes: spec.bytes });
        done = true;
        break;
      } catch (err) {
        if (options.signal?.aborted) throw err;
        failures.push(
          `${url}: ${err instanceof Error ? (err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message) : String(err)}`,
        );
      }
    }
    if (!done) {
      const why =
        urls.length === 0
          ? `no URL serves this exact file (${spec.origin ?? 'see MODELS.md'}); pass --mirror <base-url> or copy it into ${modelsDir}`
          : failures.join('; ');
      outcomes.push({
        file: spec.file,
        status: 'failed',
        error: new ModelLoadError(ModelErrorCode.FETCH, target, `could not fetch ${spec.file}: ${why}`),
      });
    }
  }
  return outcomes;
}
