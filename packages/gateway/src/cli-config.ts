import { parseArgs } from 'node:util';
import {
  type ConfigResult,
  type GatewayConfig,
  GatewayConfigSchema,
  parseConfig,
  resolveModelsDir,
} from '@squeezegate/shared';

export const GATEWAY_HELP = `Usage: squeezegate-gateway [options]

Serves the cloud model to squeezegate edge agents over WebSocket (ws://HOST:PORT/v1/edge),
with /healthz and /readyz over HTTP.

Options (environment variable in brackets):
  --host <addr>            listen address [SQUEEZEGATE_HOST] (default 127.0.0.1)
  --port <n>               listen port, 0 = any free port [SQUEEZEGATE_PORT] (default 8787)
  --device <id:token>      a device allowed to connect; repeat for more
                           [SQUEEZEGATE_DEVICES, comma-separated id:token pairs]
  --cloud-model <id>       cloud model (default mobilenetv2-12-int8)
  --models-dir <dir>       model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --max-payload-bytes <n>  largest WebSocket message accepted (default 4194304)
  --threads <n>            onnxruntime intra-op threads (default 1)
  --log-level <level>      [SQUEEZEGATE_LOG_LEVEL] (default info)
  -h, --help

Examples:
  squeezegate-gateway --device cam-1:s3cret-token-1 --device cam-2:s3cret-token-2
  SQUEEZEGATE_DEVICES=cam-1:s3cret-token-1 squeezegate-gateway --host 0.0.0.0 --port 8787

Exit codes: 0 stopped cleanly, 1 unexpected failure, 2 invalid configuration,
3 model files missing or corrupt.
`;

export type CliParse<T> = ConfigResult<T> | { ok: 'help' };

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

function parseDevices(pairs: readonly string[]): { id: string; token: string }[] {
  return pairs
    .filter((p) => p.trim().length > 0)
    .map((pair) => {
      const at = pair.indexOf(':');
      return at < 0
        ? { id: pair.trim(), token: '' }
        : { id: pair.slice(0, at).trim(), token: pair.slice(at + 1).trim() };
    });
}

/** Gateway config from command-line flags over environment variables over defaults. */
export function gatewayConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliParse<GatewayConfig> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        device: { type: 'string', multiple: true },
        'cloud-model': { type: 'string' },
        'models-dir': { type: 'string' },
        'max-payload-bytes': { type: 'string' },
        threads: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    return { ok: false, issues: [(err as Error).message] };
  }
  if (values.help) return { ok: 'help' };
  const s = (k: string) => values[k] as string | undefined;
  const devices = parseDevices(
    (values.device as string[] | undefined) ?? env.SQUEEZEGATE_DEVICES?.split(',') ?? [],
  );
  const raw = Object.fromEntries(
    Object.entries({
      host: s('host') ?? env.SQUEEZEGATE_HOST,
      port: num(s('port') ?? env.SQUEEZEGATE_PORT),
      devices,
      cloudModel: s('cloud-model'),
      modelsDir: resolveModelsDir({ configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR }),
      maxPayloadBytes: num(s('max-payload-bytes')),
      threads: num(s('threads')),
      logLevel: s('log-level') ?? env.SQUEEZEGATE_LOG_LEVEL,
    }).filter(([, v]) => v !== undefined),
  );
  return parseConfig(GatewayConfigSchema, raw);
}
