import { type ParseArgsConfig, parseArgs } from 'node:util';
import { readConfigFile } from './files.ts';

type Values = Record<string, string | string[] | boolean | undefined>;

/** What every program's command line shares: flags parsed, `--help`, and a `--config` file read. */
export type CliInput =
  | { kind: 'help' }
  | { kind: 'invalid'; issues: string[] }
  | { kind: 'read'; values: Values; file: Record<string, unknown>; printConfig: boolean };

/**
 * Parses flags (`options` plus the common `--config`, `--print-config` and `--help`) and reads the
 * config file if one is named; problems come back as issues, never thrown.
 */
export async function readCli(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): Promise<CliInput> {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...options,
        config: { type: 'string' },
        'print-config': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    return { kind: 'invalid', issues: [(err as Error).message] };
  }
  if (values.help) return { kind: 'help' };
  let file: Record<string, unknown> = {};
  if (typeof values.config === 'string') {
    const read = await readConfigFile(values.config);
    if (!read.ok) return { kind: 'invalid', issues: read.issues };
    file = read.value;
  }
  return { kind: 'read', values, file, printConfig: values['print-config'] === true };
}

/** A number from a flag or variable, undefined when absent (the schema reports a bad one). */
export const numberOrUndefined = (v: unknown) => (v === undefined ? undefined : Number(v));

/** The object without its undefined entries, so absent flags don't override a file or defaults. */
export const definedOnly = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
