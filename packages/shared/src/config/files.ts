import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

export type ConfigFileResult = { ok: true; value: Record<string, unknown> } | { ok: false; issues: string[] };

/**
 * Reads a configuration file: YAML (`.yaml`, `.yml`) or JSON (anything else; JSON is YAML too,
 * so either parses). Problems come back as config issues, never thrown.
 */
export async function readConfigFile(file: string): Promise<ConfigFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, issues: [`${file}: ${(err as Error).message}`] };
  }
  try {
    const value: unknown = /\.ya?ml$/i.test(file) ? parse(text) : JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, issues: [`${file}: expected a mapping of settings at the top level`] };
    }
    return { ok: true, value: value as Record<string, unknown> };
  } catch (err) {
    return { ok: false, issues: [`${file}: ${(err as Error).message.split('\n')[0]}`] };
  }
}

// `key` is left out: in this config it names a file (tls.key), not a secret.
const SECRET_KEYS = /^(token|adminToken|password|secret)$/i;
// Mappings whose every value is a secret: HTTP headers sent to a remote server carry credentials.
const SECRET_MAPS = /^headers$/i;

const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i;

/** A copy of a config with every secret replaced by "***", for --print-config and logs. */
export function maskSecrets<T>(value: T): T {
  // A URL may carry a password of its own (redis://:pw@host, mqtt://user:pw@host).
  if (typeof value === 'string') return value.replace(URL_PASSWORD, '$1***@') as T;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEYS.test(k) && typeof v === 'string'
          ? '***'
          : SECRET_MAPS.test(k) && v && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.keys(v).map((name) => [name, '***']))
            : maskSecrets(v),
      ]),
    ) as T;
  }
  return value;
}
