import {
  type ConfigResult,
  definedOnly,
  type GatewayConfig,
  GatewayConfigSchema,
  numberOrUndefined,
  parseConfig,
  readCli,
  resolveModelsDir,
} from '@squeezegate/shared';

export const GATEWAY_HELP = `Usage: squeezegate-gateway [options]

Serves the cloud model to squeezegate edge agents over WebSocket (ws://HOST:PORT/v1/edge,
wss:// with TLS), and over the Open Inference Protocol v2 (http://HOST:PORT/v2/...), with
/healthz and /readyz. Frames from both are batched dynamically. A frame sent again under the
same id is answered once. SIGHUP re-reads the device list (the --config file, SQUEEZEGATE_DEVICES).

Options (environment variable in brackets):
  --config <file>          a YAML or JSON file with any of the settings below (see
                           deploy/config/gateway.example.yaml); flags and variables win
  --print-config           print the effective configuration (secrets masked) and exit
  --host <addr>            listen address [SQUEEZEGATE_HOST] (default 127.0.0.1)
  --port <n>               listen port, 0 = any free port [SQUEEZEGATE_PORT] (default 8787)
  --device <id:token>      a device allowed to connect; repeat for more
                           [SQUEEZEGATE_DEVICES, comma-separated id:token pairs]; a config
                           file may give tokenSha256 (the token's sha256 in hex) instead
  --admin-token <token>    bearer token for /metrics, /dashboard, /admin and the /v2 API;
                           without it /admin is off [SQUEEZEGATE_ADMIN_TOKEN]
  --tls-cert <file>        PEM certificate (chain): serve https:// and wss:// only
                           [SQUEEZEGATE_TLS_CERT]
  --tls-key <file>         its PEM private key [SQUEEZEGATE_TLS_KEY]
  --max-frames-per-second <n>
                           frames per second per device; beyond, RATE_LIMITED (default: no limit)
  --max-connections-per-device <n>
                           beyond, TOO_MANY_CONNECTIONS and close 1008 (default 2)
  --answer-cache-size <n>  answers kept per device for repeated frame ids (default 4096)
  --cloud-model <id>       cloud model (default mobilenetv2-12-int8)
  --models-dir <dir>       model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --max-payload-bytes <n>  largest WebSocket message accepted (default 4194304)
  --no-payload-preview     keep no copy of what the devices sent: the dashboard's "what left"
                           view is off (default on with --admin-token: the last payloads as
                           received, in memory only)
  --payload-preview-size <n>
                           payloads the "what left" view keeps, at most 16 MiB (default 50)
  --workers <n>            inference worker threads, each with its own session (default 1)
  --threads <n>            onnxruntime intra-op threads per worker (default 1)
  --max-batch <n>          largest batch, 1 = batching off (default 8)
  --max-queue-delay-ms <ms> how long a frame may wait for its batch to fill (default 2)
  --max-queue <n>          frames waiting beyond this are answered busy (default 64)
  --remote-url <url>       run the cloud model on a remote Open Inference Protocol v2
                           server (Triton, KServe, ...) instead of locally
  --remote-model <name>    the model's name there (default: --cloud-model)
  --remote-header <'Name: value'>
                           an HTTP header sent with every request to it; repeat for more, e.g.
                           'Authorization: Bearer <token>' (another gateway's admin token)
  --remote-json            send it tensors as JSON, not as binary data (Triton's binary
                           tensor data extension, the default; for a server without it)
  --redis-url <url>        share the frame ledger, revocations, rate limits and the fleet
                           view with every gateway on this Redis (redis://host:6379/0)
                           [SQUEEZEGATE_REDIS_URL]; unset: kept in memory. If Redis goes
                           away the gateway serves from memory and resyncs when it is back
  --redis-key-prefix <p>   prefix of every key and channel (default squeezegate:)
  --mqtt-url <url>         publish each answer and each device's state change (QoS 1) and
                           its availability (retained) to this broker (mqtt://host:1883)
                           [SQUEEZEGATE_MQTT_URL]
  --mqtt-prefix <p>        first topic level (default squeezegate)
  --fleet-budget-cloud-fps <n>
                           fleet budget: frames per second all devices together may send;
                           the gateway sends every device one offload bar and moves it to
                           hold the budget (docs/operations.md "Fleet budget")
  --fleet-budget-uplink-bps <n>
                           fleet budget in payload bytes per second (either or both)
  --fleet-interval-ms <ms> how often the bar is recomputed and sent (default 1000)
  --log-level <level>      [SQUEEZEGATE_LOG_LEVEL] (default info)
  -h, --help

Examples:
  squeezegate-gateway --device cam-1:s3cret-token-1 --device cam-2:s3cret-token-2
  SQUEEZEGATE_DEVICES=cam-1:s3cret-token-1 squeezegate-gateway --host 0.0.0.0 --port 8787
  squeezegate-gateway --device cam-1:s3cret-token-1 --remote-url http://triton:8000 --remote-model mobilenetv2
  squeezegate-gateway --config gateway.yaml --tls-cert cert.pem --tls-key key.pem \\
    --admin-token "$ADMIN_TOKEN" --max-frames-per-second 20

Exit codes: 0 stopped cleanly, 1 unexpected failure, 2 invalid configuration,
3 model files missing or corrupt.
`;

export type CliParse<T> = ConfigResult<T> | { ok: 'help' };

const num = numberOrUndefined;
const defined = definedOnly;

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

/** `--remote-header 'Name: value'` flags as a mapping; a flag without a colon is refused. */
function parseHeaders(
  flags: readonly string[],
): { ok: true; value: Record<string, string>; count: number } | { ok: false; issues: string[] } {
  const value: Record<string, string> = {};
  for (const [i, flag] of flags.entries()) {
    const colon = flag.indexOf(':');
    // The flag is not echoed: its value is likely a secret.
    if (colon <= 0) return { ok: false, issues: [`--remote-header #${i + 1}: expected 'Name: value'`] };
    value[flag.slice(0, colon).trim()] = flag.slice(colon + 1).trim();
  }
  return { ok: true, value, count: flags.length };
}

/**
 * Gateway config from command-line flags over a config file (YAML or JSON) over environment
 * variables over defaults. `printConfig` asks main to print the effective config and exit.
 */
export async function gatewayConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliParse<GatewayConfig> & { printConfig?: boolean }> {
  const cli = await readCli(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    device: { type: 'string', multiple: true },
    'admin-token': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'max-frames-per-second': { type: 'string' },
    'max-connections-per-device': { type: 'string' },
    'answer-cache-size': { type: 'string' },
    'cloud-model': { type: 'string' },
    'models-dir': { type: 'string' },
    'max-payload-bytes': { type: 'string' },
    'no-payload-preview': { type: 'boolean' },
    'payload-preview-size': { type: 'string' },
    threads: { type: 'string' },
    workers: { type: 'string' },
    'max-batch': { type: 'string' },
    'max-queue-delay-ms': { type: 'string' },
    'max-queue': { type: 'string' },
    'remote-url': { type: 'string' },
    'remote-model': { type: 'string' },
    'remote-header': { type: 'string', multiple: true },
    'remote-json': { type: 'boolean' },
    'redis-url': { type: 'string' },
    'redis-key-prefix': { type: 'string' },
    'mqtt-url': { type: 'string' },
    'mqtt-prefix': { type: 'string' },
    'fleet-budget-cloud-fps': { type: 'string' },
    'fleet-budget-uplink-bps': { type: 'string' },
    'fleet-interval-ms': { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (cli.kind === 'help') return { ok: 'help' };
  if (cli.kind === 'invalid') return { ok: false, issues: cli.issues };
  const { values, file } = cli;
  const s = (k: string) => values[k] as string | undefined;
  const pairs = (values.device as string[] | undefined) ?? env.SQUEEZEGATE_DEVICES?.split(',');
  const remoteHeaders = parseHeaders((values['remote-header'] as string[] | undefined) ?? []);
  if (!remoteHeaders.ok) return { ok: false, issues: remoteHeaders.issues };
  const fileRemote = file.remote as { headers?: object } | undefined;
  const remoteFlags = defined({
    url: s('remote-url'),
    model: s('remote-model'),
    // Per name, a flag wins over the file.
    headers: remoteHeaders.count > 0 ? { ...fileRemote?.headers, ...remoteHeaders.value } : undefined,
    binary: values['remote-json'] === true ? false : undefined,
  });
  const tls = defined({
    cert: s('tls-cert') ?? env.SQUEEZEGATE_TLS_CERT,
    key: s('tls-key') ?? env.SQUEEZEGATE_TLS_KEY,
  });
  const raw = {
    ...file,
    ...defined({
      host: s('host') ?? env.SQUEEZEGATE_HOST,
      port: num(s('port') ?? env.SQUEEZEGATE_PORT),
      devices: pairs ? parseDevices(pairs) : (file.devices ?? []),
      adminToken: s('admin-token') ?? env.SQUEEZEGATE_ADMIN_TOKEN,
      // Either flag alone still makes a tls object, so the schema names the missing one.
      tls: Object.keys(tls).length > 0 ? { ...(file.tls as object | undefined), ...tls } : undefined,
      maxFramesPerSecond: num(s('max-frames-per-second')),
      maxConnectionsPerDevice: num(s('max-connections-per-device')),
      answerCacheSize: num(s('answer-cache-size')),
      cloudModel: s('cloud-model'),
      modelsDir: resolveModelsDir({
        configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
      }),
      maxPayloadBytes: num(s('max-payload-bytes')),
      payloadPreview:
        values['no-payload-preview'] === true || s('payload-preview-size') !== undefined
          ? {
              ...(file.payloadPreview as object | undefined),
              ...defined({
                enabled: values['no-payload-preview'] === true ? false : undefined,
                size: num(s('payload-preview-size')),
              }),
            }
          : undefined,
      threads: num(s('threads')),
      workers: num(s('workers')),
      maxBatch: num(s('max-batch')),
      maxQueueDelayMs: num(s('max-queue-delay-ms')),
      maxQueue: num(s('max-queue')),
      // Any --remote-* flag makes a remote object, so the schema names a missing url.
      remote: Object.keys(remoteFlags).length > 0 ? { ...fileRemote, ...remoteFlags } : undefined,
      redis:
        (s('redis-url') ?? env.SQUEEZEGATE_REDIS_URL)
          ? {
              ...(file.redis as object | undefined),
              ...defined({
                url: s('redis-url') ?? env.SQUEEZEGATE_REDIS_URL,
                keyPrefix: s('redis-key-prefix'),
              }),
            }
          : undefined,
      mqtt:
        (s('mqtt-url') ?? env.SQUEEZEGATE_MQTT_URL)
          ? {
              ...(file.mqtt as object | undefined),
              ...defined({ url: s('mqtt-url') ?? env.SQUEEZEGATE_MQTT_URL, prefix: s('mqtt-prefix') }),
            }
          : undefined,
      fleet:
        s('fleet-budget-cloud-fps') !== undefined ||
        s('fleet-budget-uplink-bps') !== undefined ||
        s('fleet-interval-ms') !== undefined
          ? {
              ...(file.fleet as object | undefined),
              ...defined({
                budgetCloudFps: num(s('fleet-budget-cloud-fps')),
                budgetUplinkBps: num(s('fleet-budget-uplink-bps')),
                intervalMs: num(s('fleet-interval-ms')),
              }),
            }
          : undefined,
      logLevel: s('log-level') ?? env.SQUEEZEGATE_LOG_LEVEL,
    }),
  };
  const parsed = parseConfig(GatewayConfigSchema, raw);
  return cli.printConfig ? { ...parsed, printConfig: true } : parsed;
}
