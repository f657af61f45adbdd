import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDirectorySource, SourceError } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-src-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

describe('directory source', () => {
  it('lists images sorted, with labels from manifest.csv (quoted commas included)', async () => {
    const dir = await dirWith({
      'b.jpg': 'x',
      'a.png': 'x',
      'notes.txt': 'x',
      'c.webp': 'x',
      'manifest.csv': 'file,class_index,class_name\na.png,7,"tench, Tinca tinca"\nb.jpg,3,x\n',
    });
    const source = await openDirectorySource({ dir });
    expect(source.frames.map((f) => [f.name, f.seq, f.truth])).toEqual([
      ['a.png', 0, 7],
      ['b.jpg', 1, 3],
      ['c.webp', 2, null],
    ]);
    expect(source.labelled).toBe(true);
  });

  it('splits a set across agents with offset/stride after the limit', async () => {
    const dir = await dirWith(Object.fromEntries([...'abcdefg'].map((c) => [`${c}.jpg`, 'x'])));
    const a = await openDirectorySource({ dir, limit: 5, offset: 0, stride: 2 });
    const b = await openDirectorySource({ dir, limit: 5, offset: 1, stride: 2 });
    expect(a.frames.map((f) => f.seq)).toEqual([0, 2, 4]);
    expect(b.frames.map((f) => f.seq)).toEqual([1, 3]);
    expect(a.labelled).toBe(false);
  });

  it('paces replay at the given fps with an injected sleep', async () => {
    const dir = await dirWith({ '1.jpg': 'x', '2.jpg': 'x', '3.jpg': 'x' });
    const source = await openDirectorySource({ dir, fps: 10 });
    const sleeps: number[] = [];
    const seen: string[] = [];
    for await (const f of source.replay({ sleep: async (ms) => void sleeps.push(ms) })) seen.push(f.name);
    expect(seen).toEqual(['1.jpg', '2.jpg', '3.jpg']);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeGreaterThan(90);
  });

  it('stops replay when the signal aborts', async () => {
    const dir = await dirWith({ '1.jpg': 'x', '2.jpg': 'x', '3.jpg': 'x' });
    const source = await openDirectorySource({ dir });
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const f of source.replay({ signal: controller.signal })) {
      seen.push(f.name);
      controller.abort();
    }
    expect(seen).toEqual(['1.jpg']);
  });

  it('fails with SourceError for a missing or empty directory and a bad labels file', async () => {
    await expect(openDirectorySource({ dir: '/nonexistent/frames' })).rejects.toBeInstanceOf(SourceError);
    await expect(openDirectorySource({ dir: await dirWith({ 'a.txt': 'x' }) })).rejects.toThrow(/no images/);
    const dir = await dirWith({ 'a.jpg': 'x', 'manifest.csv': 'file,class_index\na.jpg,seven\n' });
    await expect(openDirectorySource({ dir })).rejects.toThrow(
      /row 2: needs "file" and a numeric "class_index"/,
    );
  });
});
