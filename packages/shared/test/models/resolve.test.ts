import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type FileSpec,
  MODEL_IDS,
  ModelErrorCode,
  ModelLoadError,
  resolveModel,
  resolveModelsDir,
  sha256File,
  verifyFile,
} from '@squeezegate/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32, randomBytes } from '../../../../test/support/prng.ts';

const content = randomBytes(mulberry32(1), 10_000);
const spec: FileSpec = {
  file: 'tiny.onnx',
  bytes: content.length,
  sha256: createHash('sha256').update(content).digest('hex'),
  urls: [],
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sqz-resolve-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(promise: Promise<unknown>): Promise<ModelLoadError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('expected a ModelLoadError');
}

describe('verifyFile', () => {
  it('returns the absolute path of a good file', async () => {
    await writeFile(path.join(dir, spec.file), content);
    await expect(verifyFile(spec, dir)).resolves.toBe(path.join(dir, spec.file));
  });

  it('names the missing file and says how to get it', async () => {
    const err = await loadError(verifyFile(spec, dir));
    expect(err.name).toBe('ModelLoadError');
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.code).toBe(ModelErrorCode.MISSING);
    expect(err.file).toBe(path.join(dir, spec.file));
    expect(err.message).toContain('tiny.onnx');
    expect(err.message).toContain(dir);
    expect(err.message).toContain('models:fetch');
    expect(err.message).toContain('SQUEEZEGATE_MODELS_DIR');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports a truncated file as a size mismatch', async () => {
    await writeFile(path.join(dir, spec.file), content.subarray(0, 9_999));
    const err = await loadError(verifyFile(spec, dir));
    expect(err.code).toBe('MODEL_SIZE_MISMATCH');
    expect(err.message).toContain('9999 bytes, expected 10000');
    expect(err.message).toContain('models:fetch');
  });

  it('reports a same-size file with one flipped byte as a checksum mismatch', async () => {
    const corrupted = Buffer.from(content);
    corrupted[5_000]! ^= 0x01;
    await writeFile(path.join(dir, spec.file), corrupted);
    const err = await loadError(verifyFile(spec, dir));
    expect(err.code).toBe('MODEL_CHECKSUM_MISMATCH');
    expect(err.message).toContain(`expected ${spec.sha256}`);
    expect(err.message).toContain(createHash('sha256').update(corrupted).digest('hex'));
    expect(err.message).toContain('corrupted');
  });

  it('treats a directory in place of the file as a size mismatch, not a crash', async () => {
    await mkdir(path.join(dir, spec.file));
    const err = await loadError(verifyFile(spec, dir));
    expect(err.code).toBe('MODEL_SIZE_MISMATCH');
  });
});

describe('sha256File', () => {
  it('hashes a file like createHash does', async () => {
    const file = path.join(dir, 'x.bin');
    await writeFile(file, content);
    await expect(sha256File(file)).resolves.toBe(spec.sha256);
  });
});

describe('resolveModel', () => {
  it('rejects an unknown id, listing the known ones', async () => {
    const err = await loadError(resolveModel('nope', dir));
    expect(err.code).toBe('MODEL_UNKNOWN');
    expect(err.file).toBe('nope');
    expect(err.message).toContain('"nope"');
    for (const id of MODEL_IDS) expect(err.message).toContain(id);
  });

  it('verifies the file of a known id', async () => {
    const err = await loadError(resolveModel('squeezenet1.1', dir));
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain('squeezenet1.1.onnx');
  });
});

describe('resolveModelsDir', () => {
  it('prefers the configured directory, resolved against cwd', () => {
    expect(resolveModelsDir({ configured: '/opt/models', cwd: '/srv/app' })).toBe('/opt/models');
    expect(resolveModelsDir({ configured: 'cache/models', cwd: '/srv/app' })).toBe('/srv/app/cache/models');
  });

  it('falls back to ./models when nothing (or an empty string) is configured', () => {
    expect(resolveModelsDir({ cwd: '/srv/app' })).toBe('/srv/app/models');
    expect(resolveModelsDir({ configured: undefined, cwd: '/srv/app' })).toBe('/srv/app/models');
    expect(resolveModelsDir({ configured: '', cwd: '/srv/app' })).toBe('/srv/app/models');
  });

  it('uses the process cwd by default', () => {
    expect(resolveModelsDir()).toBe(path.join(process.cwd(), 'models'));
  });
});
