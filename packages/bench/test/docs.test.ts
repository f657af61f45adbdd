// The README and docs/ the benches write into: short enough to read, every link alive, and the
// markers the benches splice between in place.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHES, headings } from '@squeezegate/bench';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const docs = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const pages = ['README.md', 'deploy/README.md', ...docs];

/** Markdown links and images outside fenced code: `[text](target)`. */
function links(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.replaceAll(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) out.push(m[1]!);
  }
  return out;
}

describe('the README and docs/', () => {
  it('keep the README short enough to read to the end', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(250);
  });

  it.each(pages)('%s: every relative link reaches a file, and every anchor a heading', (page) => {
    const broken: string[] = [];
    for (const link of links(read(page))) {
      if (/^[a-z]+:/i.test(link)) continue;
      const [file = '', anchor] = link.split('#');
      const target =
        file === '' ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), file);
      if (!existsSync(target)) {
        broken.push(`${link}: no such file`);
        continue;
      }
      if (anchor && statSync(target).isFile() && target.endsWith('.md')) {
        const anchors = headings(readFileSync(target, 'utf8')).map((h) => h.anchor);
        if (!anchors.includes(anchor)) broken.push(`${link}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('hold the markers every bench splices between', () => {
    const benchmarks = read('docs/benchmarks.md');
    for (const bench of BENCHES) {
      expect(benchmarks).toContain(`<!-- bench:${bench}:start -->`);
      expect(benchmarks).toContain(`<!-- bench:${bench}:end -->`);
    }
    const readme = read('README.md');
    expect(readme).toContain('<!-- bench:headline:start -->');
    expect(readme).toContain('<!-- bench:headline:end -->');
  });

  it('have only bench-written rows in the headline table', () => {
    const readme = read('README.md');
    const table = readme.slice(
      readme.indexOf('<!-- bench:headline:start -->'),
      readme.indexOf('<!-- bench:headline:end -->'),
    );
    const rows = table
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .slice(2);
    for (const row of rows) expect(row).toMatch(/\| \[?`?bench:[a-z-]+\b[^|]*\|$/);
  });
});
