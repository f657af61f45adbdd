import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  headings,
  MissingMarkersError,
  publish,
  publishProblems,
  sectionAnchor,
  slugify,
  spliceHeadline,
} from '@squeezegate/bench';
import { describe, expect, it } from 'vitest';

const README = (rows: string) =>
  `# x\n\n<!-- bench:headline:start -->\n${rows}\n<!-- bench:headline:end -->\n\nafter\n`;
const tableOf = (readme: string) =>
  readme.slice(readme.indexOf('start -->') + 10, readme.indexOf('<!-- bench:headline:end')).trimEnd();

describe('spliceHeadline', () => {
  const date = '2026-01-02';
  it('makes the table from nothing, with the source of every row', () => {
    const out = spliceHeadline(README(''), {
      bench: 'gateway',
      rows: [{ figure: 'Throughput', value: '254 frames/s' }],
      link: 'docs/benchmarks.md#gateway',
      date,
    });
    expect(tableOf(out)).toBe(
      [
        '| figure | value | measured by |',
        '|---|---|---|',
        '| Throughput | 254 frames/s | [bench:gateway](docs/benchmarks.md#gateway), 2026-01-02 |',
      ].join('\n'),
    );
    expect(out.endsWith('<!-- bench:headline:end -->\n\nafter\n')).toBe(true);
  });

  it("replaces one bench's rows, keeps the others', orders them by bench and drops hand-typed ones", () => {
    let readme = README('| typed by hand | 99 % | nobody |');
    readme = spliceHeadline(readme, {
      bench: 'gateway',
      rows: [{ figure: 'g', value: '1' }],
      link: null,
      date,
    });
    readme = spliceHeadline(readme, {
      bench: 'cascade',
      rows: [
        { figure: 'c1', value: '2' },
        { figure: 'c2', value: 'a | b' },
      ],
      link: 'd.md',
      date,
    });
    readme = spliceHeadline(readme, {
      bench: 'gateway',
      rows: [{ figure: 'g', value: '3' }],
      link: null,
      date,
    });
    expect(tableOf(readme).split('\n').slice(2)).toEqual([
      `| c1 | 2 | [bench:cascade](d.md), ${date} |`,
      `| c2 | a \\| b | [bench:cascade](d.md), ${date} |`,
      `| g | 3 | \`bench:gateway\`, ${date} |`,
    ]);
    // The same rows again: nothing changes.
    expect(
      spliceHeadline(readme, { bench: 'gateway', rows: [{ figure: 'g', value: '3' }], link: null, date }),
    ).toBe(readme);
  });

  it("puts a bench it doesn't know after the known ones", () => {
    let readme = spliceHeadline(README(''), {
      bench: 'video',
      rows: [{ figure: 'v', value: '1' }],
      link: null,
      date,
    });
    readme = spliceHeadline(readme, {
      bench: 'detect',
      rows: [{ figure: 'd', value: '2' }],
      link: null,
      date,
    });
    expect(
      tableOf(readme)
        .split('\n')
        .slice(2)
        .map((l) => l.split(' | ')[0]),
    ).toEqual(['| d', '| v']);
  });

  it('refuses a README without the headline markers', () => {
    expect(() =>
      spliceHeadline('# no table', { bench: 'detect', rows: [], link: null, date }, 'README.md'),
    ).toThrow(MissingMarkersError);
  });
});

describe('headings and anchors', () => {
  it('slugifies as GitHub does: lower case, punctuation gone, spaces to hyphens', () => {
    expect(slugify('Offload policies')).toBe('offload-policies');
    expect(slugify('Policies and payloads (`bench:cascade`)')).toBe('policies-and-payloads-benchcascade');
    expect(slugify('Trust — and limits')).toBe('trust--and-limits');
  });

  it('skips fenced code and numbers repeated headings', () => {
    const md = '# A\n```sh\n# not a heading\n```\n## Same\n## Same\n';
    expect(headings(md).map((h) => h.anchor)).toEqual(['a', 'same', 'same-1']);
  });

  it('finds the heading a bench section sits under', () => {
    const md =
      '# Benchmarks\n## Policies\ntext\n<!-- bench:cascade:start -->\n## inside\n<!-- bench:cascade:end -->\n';
    expect(sectionAnchor(md, 'cascade')).toBe('policies');
    expect(sectionAnchor(md, 'detect')).toBeNull();
  });
});

describe('publish', () => {
  async function tree() {
    const root = await mkdtemp(path.join(tmpdir(), 'sg-publish-'));
    await mkdir(path.join(root, 'docs'));
    const readme = path.join(root, 'README.md');
    const doc = path.join(root, 'docs/benchmarks.md');
    await writeFile(readme, README(''));
    await writeFile(
      doc,
      '# Benchmarks\n\n## Under load\n\n<!-- bench:gateway:start -->\nold\n<!-- bench:gateway:end -->\n',
    );
    return { readme, doc };
  }

  it('writes the section into the doc and links the README rows to its heading', async () => {
    const { readme, doc } = await tree();
    const written = await publish({
      bench: 'gateway',
      section: 'fresh table\n',
      headline: [{ figure: 'f', value: 'v' }],
      date: '2026-01-02',
      doc,
      readme,
    });
    expect(written).toEqual([doc, readme]);
    expect(await readFile(doc, 'utf8')).toContain(
      '<!-- bench:gateway:start -->\nfresh table\n<!-- bench:gateway:end -->',
    );
    expect(await readFile(readme, 'utf8')).toContain(
      '| f | v | [bench:gateway](docs/benchmarks.md#under-load), 2026-01-02 |',
    );
  });

  it('writes nothing when either file lacks its markers, and says so before a bench measures', async () => {
    const { readme, doc } = await tree();
    await writeFile(readme, '# no table\n');
    const before = await readFile(doc, 'utf8');
    const options = { bench: 'gateway', section: 'x', headline: [], date: 'd', doc, readme } as const;
    await expect(publish(options)).rejects.toThrow(MissingMarkersError);
    expect(await readFile(doc, 'utf8')).toBe(before);
    expect(await publishProblems({ bench: 'gateway', doc, readme })).toEqual([
      expect.stringMatching(/README\.md has no <!-- bench:headline:start -->/),
    ]);
    expect(await publishProblems({ bench: 'detect', doc })).toEqual([
      expect.stringMatching(/benchmarks\.md has no <!-- bench:detect:start -->/),
    ]);
    expect(await publishProblems({ bench: 'gateway', doc: `${doc}.missing` })).toEqual([
      expect.stringMatching(/ENOENT/),
    ]);
  });

  it('links to the fallback (the table.md) without a doc', async () => {
    const { readme } = await tree();
    await publish({
      bench: 'cascade',
      section: 'x',
      headline: [{ figure: 'f', value: 'v' }],
      date: 'd',
      readme,
      fallbackLink: path.join(path.dirname(readme), 'out/cascade/table.md'),
    });
    expect(await readFile(readme, 'utf8')).toContain('[bench:cascade](out/cascade/table.md), d |');
  });
});
