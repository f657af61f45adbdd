// Where bench results land in the docs: each bench owns one section of a docs file, between
// `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`, and its rows of the README's headline
// table, between `<!-- bench:headline:start -->` and `…:end -->`. No figure there is typed by hand.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The benches that splice, in the order their rows appear in the headline table (others follow). */
export const BENCHES = ['cascade', 'detect', 'gateway'] as const;
/** A bench's name as `npm run bench:NAME` has it. */
export type BenchName = (typeof BENCHES)[number] | (string & {});

/** One line of the README's headline table. */
export interface HeadlineRow {
  figure: string;
  value: string;
}

/** A docs file lacks the markers a bench splices between. */
export class MissingMarkersError extends Error {
  override name = 'MissingMarkersError';
  readonly code = 'MISSING_MARKERS';
  constructor(
    readonly file: string,
    readonly marker: string,
  ) {
    super(
      `${file} has no <!-- bench:${marker}:start --> … <!-- bench:${marker}:end --> section: add the two lines where the bench's output belongs`,
    );
  }
}

const markersOf = (name: string) => ({
  start: `<!-- bench:${name}:start -->`,
  end: `<!-- bench:${name}:end -->`,
});

/**
 * Replaces what lies between the `name` markers with `section`; everything else is kept byte for
 * byte, so splicing the same section twice changes nothing.
 */
export function spliceSection(doc: string, section: string, name: string, file = 'the document'): string {
  const { start, end } = markersOf(name);
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new MissingMarkersError(file, name);
  return `${doc.slice(0, a + start.length)}\n${section.replace(/\n+$/, '')}\n${doc.slice(b)}`;
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, each space a hyphen. */
export const slugify = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The headings of a markdown text outside fenced code, with their anchors (repeats get -1, -2…). */
export function headings(markdown: string): { anchor: string; offset: number }[] {
  const out: { anchor: string; offset: number }[] = [];
  const seen = new Map<string, number>();
  let fenced = false;
  let offset = 0;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) {
      const base = slugify(m[1] ?? '');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.push({ anchor: n === 0 ? base : `${base}-${n}`, offset });
    }
    offset += line.length + 1;
  }
  return out;
}

/** The anchor of the heading the `name` section sits under, so the README can link straight to it. */
export function sectionAnchor(doc: string, name: string): string | null {
  const at = doc.indexOf(markersOf(name).start);
  if (at < 0) return null;
  return headings(doc).findLast((h) => h.offset < at)?.anchor ?? null;
}

const HEADLINE = 'headline';
const HEADER = ['| figure | value | measured by |', '|---|---|---|'];
const cell = (text: string) => text.replace(/\|/g, '\\|');
/** The bench a table row came from: its last cell names it, `bench:NAME`. */
const benchOf = (row: string) => /bench:([a-z-]+)[^|]*\|\s*$/.exec(row)?.[1];

/**
 * Puts `bench`'s rows in the README's headline table and keeps the other benches' rows. Rows that
 * no bench wrote are dropped: every figure in that table comes from a bench's results.
 */
export function spliceHeadline(
  readme: string,
  update: { bench: BenchName; rows: readonly HeadlineRow[]; link: string | null; date: string },
  file = 'the README',
): string {
  const { start, end } = markersOf(HEADLINE);
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new MissingMarkersError(file, HEADLINE);
  const kept = readme
    .slice(a + start.length, b)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .flatMap((line) => {
      const bench = benchOf(line);
      return bench === undefined || bench === update.bench ? [] : [{ bench, line }];
    });
  const source = update.link ? `[bench:${update.bench}](${update.link})` : `\`bench:${update.bench}\``;
  const fresh = update.rows.map((r) => ({
    bench: update.bench,
    line: `| ${cell(r.figure)} | ${cell(r.value)} | ${source}, ${update.date} |`,
  }));
  const rank = (bench: string) => {
    const i = (BENCHES as readonly string[]).indexOf(bench);
    return i < 0 ? BENCHES.length : i;
  };
  // A stable sort: each bench's rows stay in the order it wrote them.
  const rows = [...kept, ...fresh].sort((x, y) => rank(x.bench) - rank(y.bench)).map((r) => r.line);
  return spliceSection(readme, [...HEADER, ...rows].join('\n'), HEADLINE, file);
}

/**
 * What would stop `publish` for these files (unreadable, or without the markers), so a bench can
 * refuse its options before it measures for minutes rather than after.
 */
export async function publishProblems(targets: {
  bench: BenchName;
  doc?: string | undefined;
  readme?: string | undefined;
}): Promise<string[]> {
  const problems: string[] = [];
  for (const [file, marker] of [
    [targets.doc, targets.bench],
    [targets.readme, HEADLINE],
  ] as const) {
    if (!file) continue;
    try {
      const text = await readFile(file, 'utf8');
      const { start, end } = markersOf(marker);
      const a = text.indexOf(start);
      if (a < 0 || text.indexOf(end) < a) problems.push(new MissingMarkersError(file, marker).message);
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Path from the directory of `from` to `to`, with forward slashes, as markdown links need. */
export const relativeLink = (from: string, to: string) =>
  path.relative(path.dirname(from), to).split(path.sep).join('/');

/**
 * Writes a bench's section into `doc` and its headline rows into `readme` (either may be absent).
 * Both files are read and checked before either is written, so a missing marker changes nothing.
 */
export async function publish(options: {
  bench: BenchName;
  section: string;
  headline: readonly HeadlineRow[];
  date: string;
  doc?: string | undefined;
  readme?: string | undefined;
  /** What the README links to when no `doc` is given (the bench's table.md). */
  fallbackLink?: string | undefined;
}): Promise<string[]> {
  const { bench, doc, readme } = options;
  const writes: [string, string][] = [];
  let link = options.fallbackLink && readme ? relativeLink(readme, options.fallbackLink) : null;
  if (doc) {
    const text = spliceSection(await readFile(doc, 'utf8'), options.section, bench, doc);
    writes.push([doc, text]);
    if (readme) {
      const anchor = sectionAnchor(text, bench);
      link = `${relativeLink(readme, doc)}${anchor ? `#${anchor}` : ''}`;
    }
  }
  if (readme) {
    const text = await readFile(readme, 'utf8');
    writes.push([
      readme,
      spliceHeadline(text, { bench, rows: options.headline, link, date: options.date }, readme),
    ]);
  }
  for (const [file, text] of writes) await writeFile(file, text);
  return writes.map(([file]) => file);
}
