import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FetchProgress, type FileSpec, fetchModels } from '@squeezegate/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32, randomBytes } from '../../../../test/support/prng.ts';

const rng = mulberry32(42);
const blobs = {
  'big.onnx': randomBytes(rng, 300_000),
  'small.onnx': randomBytes(rng, 1_000),
  'labels v2.json': Buffer.from(JSON.stringify(['a', 'b'])),
};
type Name = keyof typeof blobs;

function specOf(file: Name, urls: string[] = []): FileSpec {
  const bytes = blobs[file];
  return { file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), urls };
}

/**
 * A file server with one folder per behaviour: /good serves the real bytes, /bad the same
 * length with one byte flipped, /long extra bytes, /short a truncated body; anything else is 404.
 */
let server: Server;
let base: string;
let requests: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const [, folder, name] = url.split('/') as [string, string | undefined, Name | undefined];
    const good = name !== undefined ? blobs[name] : undefined;
    let body: Buffer | undefined;
    if (good) {
      if (folder === 'good') body = good;
      else if (folder === 'bad') body = Buffer.from(good).fill(good[0]! ^ 0xff, 0, 1);
      else if (folder === 'long') body = Buffer.concat([good, Buffer.from('extra')]);
      else if (folder === 'short') body = good.subarray(0, good.length - 1);
    }
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      .end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sqz-fetch-'));
  requests = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fetchModels', () => {
  it('downloads every file from the mirror, reporting progress up to the total', async () => {
    const progress: FetchProgress[] = [];
    const files = [specOf('big.onnx'), specOf('small.onnx'), specOf('labels v2.json')];
    const outcomes = await fetchModels({
      modelsDir: dir,
      files,
      mirror: `${base}/good/`, // a trailing slash is tolerated
      onProgress: (p) => progress.push(p),
    });

    expect(outcomes).toEqual([
      { file: 'big.onnx', status: 'downloaded', url: `${base}/good/big.onnx`, bytes: 300_000 },
      { file: 'small.onnx', status: 'downloaded', url: `${base}/good/small.onnx`, bytes: 1_000 },
      // file names are URL-encoded under the mirror
      { file: 'labels v2.json', status: 'downloaded', url: `${base}/good/labels%20v2.json`, bytes: 9 },
    ]);
    for (const name of Object.keys(blobs) as Name[]) {
      expect(Buffer.compare(await readFile(path.join(dir, name)), blobs[name]), name).toBe(0);
    }
    expect((await readdir(dir)).sort()).toEqual(['big.onnx', 'labels v2.json', 'small.onnx']);

    const big = progress.filter((p) => p.file === 'big.onnx');
    expect(big.length).toBeGreaterThan(1);
    expect(big.every((p) => p.total === 300_000)).toBe(true);
    expect(big.map((p) => p.received)).toEqual([...big.map((p) => p.received)].sort((a, b) => a - b));
    expect(big.at(-1)?.received).toBe(300_000);
    expect(progress.filter((p) => p.file === 'small.onnx').at(-1)).toEqual({
      file: 'small.onnx',
      received: 1_000,
      total: 1_000,
    });
  });

  it('skips files that are already present and intact', async () => {
    await writeFile(path.join(dir, 'small.onnx'), blobs['small.onnx']);
    const outcomes = await fetchModels({
      modelsDir: dir,
      files: [specOf('small.onnx')],
      mirror: `${base}/good`,
    });
    expect(outcomes).toEqual([{ file: 'small.onnx', status: 'present' }]);
    expect(requests).toEqual([]);
  });

  it('replaces a corrupted file', async () => {
    await writeFile(path.join(dir, 'small.onnx'), Buffer.alloc(1_000));
    const [outcome] = await fetchModels({
      modelsDir: dir,
      files: [specOf('small.onnx')],
      mirror: `${base}/good`,
    });
    expect(outcome?.status).toBe('downloaded');
    expect(Buffer.compare(await readFile(path.join(dir, 'small.onnx')), blobs['small.onnx'])).toBe(0);
  });

  it('creates the models directory', async () => {
    const nested = path.join(dir, 'a', 'b');
    const [outcome] = await fetchModels({
      modelsDir: nested,
      files: [specOf('small.onnx')],
      mirror: `${base}/good`,
    });
    expect(outcome?.status).toBe('downloaded');
    expect(await readdir(nested)).toEqual(['small.onnx']);
  });

  it('falls back from the mirror to the upstream URLs', async () => {
    const spec = specOf('small.onnx', [`${base}/missing/small.onnx`, `${base}/good/small.onnx`]);
    const [outcome] = await fetchModels({ modelsDir: dir, files: [spec], mirror: `${base}/nowhere` });
    expect(outcome).toEqual({
      file: 'small.onnx',
      status: 'downloaded',
      url: `${base}/good/small.onnx`,
      bytes: 1_000,
    });
    expect(requests).toEqual(['/nowhere/small.onnx', '/missing/small.onnx', '/good/small.onnx']);
  });

  it('fails on wrong bytes with a checksum message and leaves nothing behind', async () => {
    const spec = specOf('big.onnx');
    const [outcome] = await fetchModels({ modelsDir: dir, files: [spec], mirror: `${base}/bad` });
    expect(outcome?.status).toBe('failed');
    if (outcome?.status !== 'failed') return;
    expect(outcome.file).toBe('big.onnx');
    expect(outcome.error.code).toBe('MODEL_FETCH_FAILED');
    expect(outcome.error.file).toBe(path.join(dir, 'big.onnx'));
    expect(outcome.error.message).toContain('could not fetch big.onnx');
    expect(outcome.error.message).toContain(`${base}/bad/big.onnx`);
    expect(outcome.error.message).toContain(`expected 300000 / ${spec.sha256}`);
    expect(await readdir(dir)).toEqual([]); // no file, no .part
  });

  it('fails when a server sends more or fewer bytes than the manifest says', async () => {
    const long = await fetchModels({ modelsDir: dir, files: [specOf('small.onnx')], mirror: `${base}/long` });
    expect(long[0]?.status === 'failed' && long[0].error.message).toContain('sent more than 1000 bytes');
    const short = await fetchModels({
      modelsDir: dir,
      files: [specOf('small.onnx')],
      mirror: `${base}/short`,
    });
    expect(short[0]?.status === 'failed' && short[0].error.message).toContain('served 999 bytes');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails on a 404, naming the URL, and goes on with the next file', async () => {
    const outcomes = await fetchModels({
      modelsDir: dir,
      files: [
        specOf('big.onnx', [`${base}/gone/big.onnx`]),
        specOf('small.onnx', [`${base}/good/small.onnx`]),
      ],
    });
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'downloaded']);
    const [failed] = outcomes;
    expect(failed?.status === 'failed' && failed.error.message).toContain(`${base}/gone/big.onnx: HTTP 404`);
    expect(await readdir(dir)).toEqual(['small.onnx']);
  });

  it('explains that --mirror is needed when no URL serves a file', async () => {
    const spec = { ...specOf('small.onnx'), origin: 'a private export' };
    const [outcome] = await fetchModels({ modelsDir: dir, files: [spec] });
    expect(outcome?.status).toBe('failed');
    if (outcome?.status !== 'failed') return;
    expect(outcome.error.code).toBe('MODEL_FETCH_FAILED');
    expect(outcome.error.message).toContain('pass --mirror');
    expect(outcome.error.message).toContain('a private export');
    expect(outcome.error.message).toContain(dir);
    expect(requests).toEqual([]);
  });

  it('reports an unreachable server as a failure, not an exception', async () => {
    // a port that was just free: connection refused
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const mirror = `http://127.0.0.1:${port}`;
    const [outcome] = await fetchModels({ modelsDir: dir, files: [specOf('small.onnx')], mirror });
    expect(outcome?.status === 'failed' && outcome.error.message).toContain(
      `${mirror}/small.onnx: fetch failed`,
    );
    expect(outcome?.status === 'failed' && outcome.error.message).toContain('ECONNREFUSED');
  });

  it('rejects when aborted instead of reporting the file as failed', async () => {
    const promise = fetchModels({
      modelsDir: dir,
      files: [specOf('small.onnx')],
      mirror: `${base}/good`,
      signal: AbortSignal.abort(),
    });
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(dir)).toEqual([]);
  });
});
