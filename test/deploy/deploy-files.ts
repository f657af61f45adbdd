// Readers for the deployment files under deploy/: just enough of the Dockerfile, .dockerignore,
// systemd unit and environment file formats to check them against the code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/env.ts';

export const deployDir = path.join(repoRoot, 'deploy');

export const readRepoFile = (file: string) => readFileSync(path.resolve(repoRoot, file), 'utf8');

export function isFile(file: string): boolean {
  try {
    return statSync(path.resolve(repoRoot, file)).isFile();
  } catch {
    return false;
  }
}

export function isDirectory(file: string): boolean {
  try {
    return statSync(path.resolve(repoRoot, file)).isDirectory();
  } catch {
    return false;
  }
}

/** Every `.yaml`/`.yml` file under `dir`, relative to the repository root. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.relative(repoRoot, path.join(dir, f)))
    .sort();
}

/** YAML documents as plain values; throws listing every parse error or warning. */
export function parseYamlDocuments(text: string, name: string): unknown[] {
  const docs = [...parseAllDocuments(text)];
  const problems = docs.flatMap((d) => [...d.errors, ...d.warnings]).map((e) => e.message);
  if (problems.length > 0) throw new Error(`${name}:\n${problems.join('\n')}`);
  return docs.map((d) => d.toJS() as unknown);
}

export const readYamlDocuments = (file: string) => parseYamlDocuments(readRepoFile(file), file);

export function readYaml(file: string): unknown {
  const docs = readYamlDocuments(file);
  if (docs.length !== 1) throw new Error(`${file}: expected one document, found ${docs.length}`);
  return docs[0];
}

export interface Instruction {
  keyword: string;
  args: string;
  /** WORKDIR in effect for this instruction. */
  workdir: string;
}

export interface Stage {
  name: string | undefined;
  /** The base image, build arguments substituted. */
  base: string;
  instructions: Instruction[];
}

/**
 * Instructions per stage: continuation lines joined, comments dropped (also between continued
 * lines, as Docker does), global ARG defaults substituted into FROM.
 */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const globals: Record<string, string> = {};
  const stages: Stage[] = [];
  let workdir = '/';
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const upper = keyword.toUpperCase();
    const stage = stages.at(-1);
    if (upper === 'FROM') {
      const substituted = args.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globals[a ?? b] ?? '');
      const [base = '', as, name] = substituted.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, base, instructions: [] });
      workdir = '/';
    } else if (!stage) {
      if (upper === 'ARG') {
        const [k = '', v = ''] = args.split('=');
        globals[k] = v;
      }
    } else {
      if (upper === 'WORKDIR') workdir = path.posix.resolve(workdir, args);
      stage.instructions.push({ keyword: upper, args, workdir });
    }
  }
  return stages;
}

export interface Copy {
  /** Position among the stage's instructions. */
  index: number;
  from: string | undefined;
  sources: string[];
  /** Absolute destination, WORKDIR applied; ends in "/" when it names a directory. */
  dest: string;
}

export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions.flatMap((i, index) => {
    if (i.keyword !== 'COPY') return [];
    const words = i.args.startsWith('[') ? (JSON.parse(i.args) as string[]) : i.args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const rawDest = paths.at(-1) ?? '';
    const dest = path.posix.resolve(i.workdir, rawDest) + (rawDest.endsWith('/') ? '/' : '');
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    return [{ index, from, sources: paths.slice(0, -1).map((s) => s.replace(/\/$/, '')), dest }];
  });
}

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/**
 * Where a file of the build context ends up in `stage` (following COPY --from= through earlier
 * stages), or undefined when it is not there. COPY of a directory copies its contents.
 */
export function pathInStage(stages: readonly Stage[], stage: Stage, contextFile: string): string | undefined {
  let found: string | undefined;
  for (const copy of copiesOf(stage)) {
    const fromStage = copy.from ? stages.find((s) => s.name === copy.from) : undefined;
    if (copy.from && !fromStage) continue;
    const source = fromStage ? pathInStage(stages, fromStage, contextFile) : contextFile;
    if (source === undefined) continue;
    for (const src of copy.sources) {
      if (!under(source, src)) continue;
      const srcIsDir = source !== src || (fromStage ? false : isDirectory(src));
      const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
      found = srcIsDir
        ? path.posix.join(copy.dest, path.posix.relative(src, source))
        : intoDir
          ? path.posix.join(copy.dest, path.posix.basename(src))
          : copy.dest;
    }
  }
  return found;
}

/** Whether `.dockerignore` patterns exclude a context path (a match on a directory excludes its files). */
export function dockerignored(patterns: readonly string[], file: string): boolean {
  const parts = file.split('/');
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const re = globToRegExp((negated ? pattern.slice(1) : pattern).replace(/^\/+/, '').replace(/\/+$/, ''));
    for (let i = 1; i <= parts.length; i++) {
      if (re.test(parts.slice(0, i).join('/'))) {
        ignored = !negated;
        break;
      }
    }
  }
  return ignored;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function readDockerignore(): string[] {
  return readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A systemd unit: section → key → values in order (keys may repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, optional quotes). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an environment line: ${line}`);
    env[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return env;
}

/** Compose variable interpolation: ${X}, ${X:-default}, ${X:?error}. */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (op === '-') return arg ?? '';
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return '';
  });
}
