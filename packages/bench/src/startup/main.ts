// bench:startup — how long the gateway takes from spawn to "gateway listening": the compiled
// dist/ JavaScript that the CLIs run, against the same TypeScript sources run through tsx (how
// the CLIs started before they were compiled), alternated in one run on this machine.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { readCli } from '@squeezegate/shared';
import { describeMachine, machineInfo } from '../machine.ts';

const HELP = `Usage: npm run bench:startup -- [--runs N] [--out DIR] [--json FILE]

Spawns the gateway N times each way (compiled dist/ and tsx on the sources, alternated) and
measures the time from spawn to its "gateway listening" log line. Writes DIR/results.json
(default docs/bench/startup).
`;

const root = path.resolve(import.meta.dirname, '../../../..');
const VARIANTS = {
  dist: [path.join(root, 'packages/gateway/dist/main.js')],
  tsx: ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/gateway/src/main.ts')],
} as const;
type Variant = keyof typeof VARIANTS;

/** One spawn: milliseconds until the gateway logs that it listens, then it is stopped. */
async function spawnToListening(variant: Variant): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, [...VARIANTS[variant], '--port', '0', '--log-level', 'info'], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.includes('"gateway listening"')) return performance.now() - start;
    }
    throw new Error(`gateway (${variant}) exited before listening`);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const cli = await readCli(process.argv.slice(2), {
  runs: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'string' },
});
if (cli.kind === 'help') {
  process.stdout.write(HELP);
  process.exit(0);
}
if (cli.kind === 'invalid') {
  process.stderr.write(`bench:startup: ${cli.issues.join('; ')}\n\n${HELP}`);
  process.exit(2);
}
const runs = Number(cli.values.runs ?? 7);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('bench:startup: --runs takes a whole number ≥ 1\n');
  process.exit(2);
}
const machine = machineInfo();
process.stderr.write(`bench:startup on ${describeMachine(machine)}\n`);
const times: Record<Variant, number[]> = { dist: [], tsx: [] };
await spawnToListening('dist'); // warm the file cache for both
for (let i = 0; i < runs; i++) {
  for (const variant of ['tsx', 'dist'] as const) times[variant].push(await spawnToListening(variant));
}
const round = (ms: number) => Math.round(ms);
const result = {
  machine,
  runs,
  distMedianMs: round(median(times.dist)),
  tsxMedianMs: round(median(times.tsx)),
  distOverTsx: Math.round((median(times.dist) / median(times.tsx)) * 100) / 100,
  distMs: times.dist.map(round),
  tsxMs: times.tsx.map(round),
};
process.stdout.write(
  `gateway spawn → listening, median of ${runs}: compiled ${result.distMedianMs} ms, tsx ${result.tsxMedianMs} ms (${result.distOverTsx}×)\n`,
);
const out = typeof cli.values.out === 'string' ? cli.values.out : path.join(root, 'docs/bench/startup');
await mkdir(out, { recursive: true });
const text = `${JSON.stringify(result, null, 2)}\n`;
await writeFile(path.join(out, 'results.json'), text);
if (typeof cli.values.json === 'string') await writeFile(cli.values.json, text);
