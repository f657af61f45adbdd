import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { type FileSpec, getModelSpec, LABEL_FILE, MODEL_IDS, type ModelSpec } from './catalog.ts';
import { ModelErrorCode, ModelLoadError } from './errors.ts';

/**
 * Where models live: the configured directory (from `SQUEEZEGATE_MODELS_DIR` or a flag, parsed
 * by the caller's config), else the project's own `models/` cache under `cwd`.
 */
export function resolveModelsDir(options: { configured?: string | undefined; cwd?: string } = {}): string {
  const { configured, cwd = process.cwd() } = options;
  return path.resolve(cwd, configured && configured.length > 0 ? configured : 'models');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const HOW_TO_FIX =
  'Run `npm run models:fetch` (add --mirror <url> where no upstream serves the file), or point SQUEEZEGATE_MODELS_DIR at a directory that holds it.';

/** Checks a file against its spec (present, size, sha256) and returns its absolute path. */
export async function verifyFile(spec: FileSpec, modelsDir: string): Promise<string> {
  const file = path.join(modelsDir, spec.file);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (cause) {
    throw new ModelLoadError(
      ModelErrorCode.MISSING,
      file,
      `${spec.file} not found in ${modelsDir}. ${HOW_TO_FIX}`,
      {
        cause,
      },
    );
  }
  if (size !== spec.bytes) {
    throw new ModelLoadError(
      ModelErrorCode.SIZE,
      file,
      `${file} has ${size} bytes, expected ${spec.bytes}: the file is truncated or a different version. ${HOW_TO_FIX}`,
    );
  }
  const digest = await sha256File(file);
  if (digest !== spec.sha256) {
    throw new ModelLoadError(
      ModelErrorCode.CHECKSUM,
      file,
      `${file} has sha256 ${digest}, expected ${spec.sha256}: the file is corrupted. Delete it, then ${HOW_TO_FIX}`,
    );
  }
  return file;
}

export interface ResolvedModel {
  spec: ModelSpec;
  path: string;
}

/** Looks a model id up in the manifest and verifies its file. */
export async function resolveModel(id: string, modelsDir: string): Promise<ResolvedModel> {
  const spec = getModelSpec(id);
  if (!spec) {
    throw new ModelLoadError(
      ModelErrorCode.UNKNOWN,
      id,
      `Unknown model "${id}"; known models: ${MODEL_IDS.join(', ')}.`,
    );
  }
  return { spec, path: await verifyFile(spec, modelsDir) };
}

const LabelsSchema = z.array(z.string().min(1)).length(1000);

/** The 1000 ImageNet class names, index = model output position. */
export async function loadLabels(modelsDir: string): Promise<readonly string[]> {
  const file = await verifyFile(LABEL_FILE, modelsDir);
  return Object.freeze(LabelsSchema.parse(JSON.parse(await readFile(file, 'utf8'))));
}
