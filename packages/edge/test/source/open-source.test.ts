import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../src/source/frame-source.ts';
import { openFrameSource } from '../../src/source/open-source.ts';
import { captureLogger } from './helpers.ts';

describe('openFrameSource', () => {
  it('opens an image folder as a FrameSource of files, labelled from its manifest', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-folder-'));
    for (const name of ['b.jpg', 'a.jpg']) await writeFile(path.join(dir, name), 'x');
    await writeFile(path.join(dir, 'manifest.csv'), 'file,class_index\na.jpg,7\n');
    const { logger } = captureLogger();
    const source = await openFrameSource({ source: dir, camera: 'shelf', scale: { shortSide: 256 }, logger });
    expect(source.live).toBe(false);
    const frames: CapturedFrame[] = [];
    for await (const f of source.frames()) frames.push(f);
    expect(frames.map((f) => [f.camera, f.seq, f.name, f.truth, f.image])).toEqual([
      ['shelf', 0, 'a.jpg', 7, { kind: 'file', file: path.join(dir, 'a.jpg') }],
      ['shelf', 1, 'b.jpg', null, { kind: 'file', file: path.join(dir, 'b.jpg') }],
    ]);
    expect(source.stats()).toEqual({ decoded: 2, dropped: 0, restarts: 0, gaps: [] });
    await source.close();
  });

  it('refuses odd sizes before opening anything', async () => {
    const { logger } = captureLogger();
    await expect(
      openFrameSource({ source: '/dev/video0', scale: { longSide: 415 }, logger }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_SOURCE' });
  });
});
