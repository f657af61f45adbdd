import { parseArgs } from 'node:util';
import {
  type ConfigResult,
  type GatewayConfig,
  GatewayConfigSchema,
  parseConfig,
  readConfigFile,
  resolveModelsDir,
} from '@squeezegate/shared';

export const GATEWAY_HELP = `Usage: squeezegate-gateway [options]

Serves the cloud model to squeezegate edge agents over WebSocket (ws://HOST:PORT/v1/edge),
and to anyone over the Open Inference Protocol v2 (http://HOST:PORT/v2/...), with /healthz
and /readyz. Frames from both are batched dynamically.

Options (environment variable in brackets):
  --config <file>          a YAML or JSON file with any of the settings below (see
                           deploy/config/gateway.example.yaml); flags and variables win
  --print-config           print the effective configuration (secrets masked) and exit
  --host <addr>            listen address [SQUEEZEGATE_HOST] (default 127.0.0.1)
  --port <n>               listen port, 0 = any free port [SQUEEZEGATE_PORT] (default 8787)
  --device <id:token>      a device allowed to connect; repeat for more
                           [SQUEEZEGATE_DEVICES, comma-separated id:token pairs]
  --admin-token <token>    bearer token for /metrics and /dashboard [SQUEEZEGATE_ADMIN_TOKEN]
  --cloud-model <id>       cloud model (default mobilenetv2-12-int8)
  --models-dir <dir>       model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --max-payload-bytes <n>  largest WebSocket message accepted (default 4194304)
  --workers <n>            inference worker threads, each with its own session (default 1)
  --threads <n>            onnxruntime intra-op threads per worker (default 1)
  --max-batch <n>          largest batch, 1 = batching off (default 8)
  --max-queue-delay-ms <ms> how long a frame may wait for its batch to fill (default 2)
  --max-queue <n>          frames waiting beyond this are answered busy (default 64)
  --remote-url <url>       run the cloud model on a remote Open Inference Protocol v2
                           server (Triton, KServe, ...) instead of locally
  --remote-model <name>    the model's name there (default: --cloud-model)
  --log-level <level>      [SQUEEZEGATE_LOG_LEVEL] (default info)
  -h, --help

Examples:
  squeezegate-gateway --device cam-1:s3cret-token-1 --device cam-2:s3cret-token-2
  SQUEEZEGATE_DEVICES=cam-1:s3cret-token-1 squeezegate-gateway --host 0.0.0.0 --port 8787
  squeezegate-gateway --device cam-1:s3cret-token-1 --remote-url http://triton:8000 --remote-model mobilenetv2

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

/**
 * Gateway config from command-line flags over a config file (YAML or JSON) over environment
 * variables over defaults. `printConfig` asks main to print the effective config and exit.
 */
export async function gatewayConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliParse<GatewayConfig> & { printConfig?: boolean }> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        'print-config': { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'string' },
        device: { type: 'string', multiple: true },
        'admin-token': { type: 'string' },
        'cloud-model': { type: 'string' },
        'models-dir': { type: 'string' },
        'max-payload-bytes': { type: 'string' },
        threads: { type: 'string' },
        workers: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue-delay-ms': { type: 'string' },
        'max-queue': { type: 'string' },
        'remote-url': { type: 'string' },
        'remote-model': { type: 'string' },
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
  let file: Record<string, unknown> = {};
  if (s('config')) {
    const read = await readConfigFile(s('config')!);
    if (!read.ok) return read;
    file = read.value;
  }
  const pairs = (values.device as string[] | undefined) ?? env.SQUEEZEGATE_DEVICES?.split(',');
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const raw = {
    ...file,
    ...defined({
      host: s('host') ?? env.SQUEEZEGATE_HOST,
      port: num(s('port') ?? env.SQUEEZEGATE_PORT),
      devices: pairs ? parseDevices(pairs) : (file.devices ?? []),
      adminToken: s('admin-token') ?? env.SQUEEZEGATE_ADMIN_TOKEN,
      cloudModel: s('cloud-model'),
      modelsDir: resolveModelsDir({
        configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
      }),
      maxPayloadBytes: num(s('max-payload-bytes')),
      threads: num(s('threads')),
      workers: num(s('workers')),
      maxBatch: num(s('max-batch')),
      maxQueueDelayMs: num(s('max-queue-delay-ms')),
      maxQueue: num(s('max-queue')),
      remote: s('remote-url')
        ? {
            ...(file.remote as object | undefined),
            ...defined({ url: s('remote-url'), model: s('remote-model') }),
          }
        : undefined,
      logLevel: s('log-level') ?? env.SQUEEZEGATE_LOG_LEVEL,
    }),
  };
  const parsed = parseConfig(GatewayConfigSchema, raw);
  return values['print-config'] ? { ...parsed, printConfig: true } : parsed;
}
