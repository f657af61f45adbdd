import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { modelsDir, repoRoot } from './env.ts';

const run = promisify(execFile);

/** Environment of a user's shell: no test variables, models where the suite found them. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { SQUEEZEGATE_DATASET_DIR: _d, SQUEEZEGATE_MODELS_DIR: _m, ...rest } = process.env;
  return { ...rest, SQUEEZEGATE_MODELS_DIR: modelsDir, ...extra };
}

/** Runs `node <args>` from the repository root; resolves with the exit code and output, never rejects. */
export async function runNode(args: string[], env = userEnv()) {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: repoRoot, env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
