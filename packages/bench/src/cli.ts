// The benches' command lines, read the way the edge and gateway read theirs: the shared reader
// (flags, --config, --print-config, --help), one zod schema, every problem listed, exit code 2.
import type { ParseArgsConfig } from 'node:util';
import { type CliInput, maskSecrets, parseConfig, readCli, resolveModelsDir } from '@squeezegate/shared';
import type { z } from 'zod';

export type FlagValues = Extract<CliInput, { kind: 'read' }>['values'];
type Flags = NonNullable<ParseArgsConfig['options']>;

/** What a bench's command line comes to: run with this config, or print and exit. */
export type BenchCli<T> =
  | { kind: 'run'; config: Readonly<T> }
  | { kind: 'exit'; code: 0 | 2; stdout: string; stderr: string };

/**
 * Reads a bench's flags (and `--config` file) into its schema. `raw` maps the flags and the file to
 * the schema's shape; flags and variables go over the file, as in the edge and gateway.
 */
export async function readBenchCli<T>(options: {
  /** `bench:cascade`, as `npm run` names it. */
  name: string;
  help: string;
  argv: readonly string[];
  flags: Flags;
  schema: z.ZodType<T>;
  raw: (flag: (name: string) => string | undefined, file: Record<string, unknown>) => unknown;
  /** Problems only I/O can find (a docs file without its markers), reported like the schema's. */
  check?: (config: Readonly<T>) => Promise<string[]>;
}): Promise<BenchCli<T>> {
  const { name, help } = options;
  const invalid = (issues: readonly string[]): BenchCli<T> => ({
    kind: 'exit',
    code: 2,
    stdout: '',
    stderr: `${name}: invalid configuration\n${issues.map((i) => `  - ${i}`).join('\n')}\n\nSee npm run ${name} -- --help.\n`,
  });
  const cli = await readCli(options.argv, options.flags);
  if (cli.kind === 'help') return { kind: 'exit', code: 0, stdout: help, stderr: '' };
  if (cli.kind === 'invalid') return invalid(cli.issues);
  const flag = (k: string) => {
    const v = cli.values[k];
    return typeof v === 'string' ? v : undefined;
  };
  const parsed = parseConfig(options.schema, options.raw(flag, cli.file));
  if (!parsed.ok) return invalid(parsed.issues);
  const problems = (await options.check?.(parsed.config)) ?? [];
  if (problems.length > 0) return invalid(problems);
  if (cli.printConfig) {
    return {
      kind: 'exit',
      code: 0,
      stdout: `${JSON.stringify(maskSecrets(parsed.config), null, 2)}\n`,
      stderr: '',
    };
  }
  return { kind: 'run', config: parsed.config };
}

/**
 * Where a bench finds its images and models: the flag, else the variable, else the config file
 * (the models directory falls back to the project's own cache, as the edge's does).
 */
export function datasetAndModels(
  flag: (name: string) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  file: Record<string, unknown>,
): { dataset: string; modelsDir: string } {
  return {
    dataset: flag('dataset') ?? env.SQUEEZEGATE_DATASET_DIR ?? (file.dataset as string | undefined) ?? '',
    modelsDir: resolveModelsDir({
      configured: flag('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
    }),
  };
}

/** The help lines every bench shares. */
export const COMMON_HELP = `  --config <file>     a YAML or JSON file with any of the settings (their names as --print-config
                      shows them); flags and variables win
  --print-config      print the effective settings and exit
  -h, --help`;
