import { hostname } from 'node:os';
import {
  type ConfigResult,
  definedOnly,
  type EdgeConfig,
  EdgeConfigSchema,
  numberOrUndefined,
  parseConfig,
  readCli,
  resolveModelsDir,
} from '@squeezegate/shared';
import { POLICY_FLAGS, POLICY_HELP, payloadFromFlags, policyFromFlags } from './policy-flags.ts';
import { detectFromFlags, privacyFromFlags, TASK_FLAGS, TASK_HELP } from './task-flags.ts';

export const EDGE_HELP = `Usage: squeezegate-edge [options]
       squeezegate-edge calibrate --help

Replays a directory of images as camera frames, classifies each locally (or finds its objects,
--task detect) and offloads what it is unsure of to a squeezegate gateway, faces pixelated first.
Writes one JSON line per frame.

Options (environment variable in brackets):
  --config <file>          a YAML or JSON config file, or the fragment \`squeezegate-edge calibrate\`
                           writes (see deploy/config/edge.example.yaml); flags and variables win
  --print-config           print the effective configuration (secrets masked) and exit
  --gateway <url>          gateway WebSocket URL [SQUEEZEGATE_GATEWAY_URL] (default ws://127.0.0.1:8787/v1/edge)
  --device-id <id>         this device's id [SQUEEZEGATE_DEVICE_ID] (default: host name)
  --token <token>          this device's token [SQUEEZEGATE_TOKEN]
  --source <dir>           directory of frames [SQUEEZEGATE_DATASET_DIR]
  --labels <csv>           labels manifest (file,class_index); default <dir>/manifest.csv if present
  --fps <n>                frames per second, 0 = as fast as possible (default 0)
  --limit <n>              replay only the first n frames
  --model <id>             edge model: squeezenet1.1 | squeezenet1.0-deepcompression (default squeezenet1.1)
  --deadline-ms <ms>       wait this long for the cloud, then keep the local answer (default 1000)
  --max-in-flight <n>      offloaded frames awaiting an answer at once (default 8)
  --spool-dir <dir>        spool frames offloaded while the gateway is unreachable to this directory
  --spool-max-bytes <n>    its size (default 64 MiB)
  --spool-ttl-ms <ms>      how long a spooled frame may wait for the gateway (default 60000),
                           then it keeps its local answer, recorded as expired
  --models-dir <dir>       model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --out <file>             results as JSON lines, "-" = stdout (default -)
  --log-level <level>      [SQUEEZEGATE_LOG_LEVEL] (default info; logs go to stderr)
  -h, --help

${POLICY_HELP}
${TASK_HELP}
Examples:
  squeezegate-edge --source ../shared/datasets/imagenet-sample --token s3cret-token --limit 50
  squeezegate-edge --source /var/frames --fps 5 --measure margin --threshold 0.3 --out results.jsonl
  squeezegate-edge --source /var/frames --policy rate --target 0.25
  squeezegate-edge --source /var/frames --policy budget --bytes-per-second 20000
  squeezegate-edge --source /var/frames --config calibrated.json
  squeezegate-edge --task detect --source ../shared/datasets/detection-sample/images --token s3cret-token
  squeezegate-edge --source /var/frames --faces withhold --mask "0,0 0.3,0 0.3,1 0,1" --privacy-ledger ledger.jsonl

Exit codes: 0 done, 1 unexpected failure, 2 invalid configuration, 3 model files missing or corrupt,
4 frame source unreadable, 6 privacy ledger cannot be opened.
`;

const num = numberOrUndefined;
const defined = definedOnly;

export type CliParse<T> = ConfigResult<T> | { ok: 'help' };

/** Edge config from flags over a config file over environment variables over defaults. */
export async function edgeConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliParse<EdgeConfig> & { printConfig?: boolean }> {
  const cli = await readCli(argv, {
    gateway: { type: 'string' },
    'device-id': { type: 'string' },
    token: { type: 'string' },
    source: { type: 'string' },
    labels: { type: 'string' },
    fps: { type: 'string' },
    limit: { type: 'string' },
    model: { type: 'string' },
    'deadline-ms': { type: 'string' },
    'max-in-flight': { type: 'string' },
    'spool-dir': { type: 'string' },
    'spool-max-bytes': { type: 'string' },
    'spool-ttl-ms': { type: 'string' },
    'models-dir': { type: 'string' },
    out: { type: 'string' },
    'log-level': { type: 'string' },
    ...POLICY_FLAGS,
    ...TASK_FLAGS,
  });
  if (cli.kind === 'help') return { ok: 'help' };
  if (cli.kind === 'invalid') return { ok: false, issues: cli.issues };
  const { values, file } = cli;
  const s = (k: string) => values[k] as string | undefined;
  const fileSource = (file.source ?? {}) as Record<string, unknown>;
  const parsed = parseConfig(EdgeConfigSchema, {
    ...file,
    ...defined({
      deviceId:
        s('device-id') ??
        env.SQUEEZEGATE_DEVICE_ID ??
        file.deviceId ??
        hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
      token: s('token') ?? env.SQUEEZEGATE_TOKEN ?? file.token ?? '',
      gatewayUrl:
        s('gateway') ?? env.SQUEEZEGATE_GATEWAY_URL ?? file.gatewayUrl ?? 'ws://127.0.0.1:8787/v1/edge',
      modelsDir: resolveModelsDir({
        configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
      }),
      task: s('task'),
      model: s('model'),
      detect: detectFromFlags(values, file.detect as Record<string, unknown> | undefined),
      privacy: privacyFromFlags(values, file.privacy as Record<string, unknown> | undefined),
      policy: policyFromFlags(values, file.policy as Record<string, unknown> | undefined),
      payload: payloadFromFlags(values, file.payload as Record<string, unknown> | undefined),
      deadlineMs: num(s('deadline-ms')),
      maxInFlight: num(s('max-in-flight')),
      spool: s('spool-dir')
        ? {
            ...(file.spool as object | undefined),
            ...defined({
              dir: s('spool-dir'),
              maxBytes: num(s('spool-max-bytes')),
              ttlMs: num(s('spool-ttl-ms')),
            }),
          }
        : undefined,
      source: {
        ...fileSource,
        ...defined({
          dir: s('source') ?? env.SQUEEZEGATE_DATASET_DIR ?? fileSource.dir ?? '',
          labels: s('labels'),
          fps: num(s('fps')),
          limit: num(s('limit')),
        }),
      },
      output: s('out'),
      logLevel: s('log-level') ?? env.SQUEEZEGATE_LOG_LEVEL,
    }),
  });
  return cli.printConfig ? { ...parsed, printConfig: true } : parsed;
}
