import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type ConfigResult,
  type EdgeConfig,
  EdgeConfigSchema,
  parseConfig,
  resolveModelsDir,
} from '@squeezegate/shared';

export const EDGE_HELP = `Usage: squeezegate-edge [options]

Replays a directory of images as camera frames, classifies each locally and offloads the
frames it is unsure of to a squeezegate gateway. Writes one JSON line per frame.

Options (environment variable in brackets):
  --gateway <url>        gateway WebSocket URL [SQUEEZEGATE_GATEWAY_URL] (default ws://127.0.0.1:8787/v1/edge)
  --device-id <id>       this device's id [SQUEEZEGATE_DEVICE_ID] (default: host name)
  --token <token>        this device's token [SQUEEZEGATE_TOKEN]
  --source <dir>         directory of frames [SQUEEZEGATE_DATASET_DIR]
  --labels <csv>         labels manifest (file,class_index); default <dir>/manifest.csv if present
  --fps <n>              frames per second, 0 = as fast as possible (default 0)
  --limit <n>            replay only the first n frames
  --model <id>           edge model: squeezenet1.1 | squeezenet1.0-deepcompression (default squeezenet1.1)
  --measure <m>          confidence measure: maxProb | margin | entropy (default maxProb)
  --threshold <t>        offload when confidence < t (default 0.5)
  --deadline-ms <ms>     wait this long for the cloud, then keep the local answer (default 1000)
  --jpeg-quality <q>     quality of the offloaded crop (default 85)
  --max-in-flight <n>    offloaded frames awaiting an answer at once (default 8)
  --models-dir <dir>     model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --out <file>           results as JSON lines, "-" = stdout (default -)
  --log-level <level>    [SQUEEZEGATE_LOG_LEVEL] (default info; logs go to stderr)
  -h, --help

Examples:
  squeezegate-edge --source ../shared/datasets/imagenet-sample --token s3cret-token --limit 50
  squeezegate-edge --source /var/frames --fps 5 --measure margin --threshold 0.3 --out results.jsonl

Exit codes: 0 done, 1 unexpected failure, 2 invalid configuration, 3 model files missing or corrupt,
4 frame source unreadable.
`;

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export type CliParse<T> = ConfigResult<T> | { ok: 'help' };

/** Edge config from command-line flags over environment variables over defaults. */
export function edgeConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliParse<EdgeConfig> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        gateway: { type: 'string' },
        'device-id': { type: 'string' },
        token: { type: 'string' },
        source: { type: 'string' },
        labels: { type: 'string' },
        fps: { type: 'string' },
        limit: { type: 'string' },
        model: { type: 'string' },
        measure: { type: 'string' },
        threshold: { type: 'string' },
        'deadline-ms': { type: 'string' },
        'jpeg-quality': { type: 'string' },
        'max-in-flight': { type: 'string' },
        'models-dir': { type: 'string' },
        out: { type: 'string' },
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
  return parseConfig(
    EdgeConfigSchema,
    defined({
      deviceId: s('device-id') ?? env.SQUEEZEGATE_DEVICE_ID ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
      token: s('token') ?? env.SQUEEZEGATE_TOKEN ?? '',
      gatewayUrl: s('gateway') ?? env.SQUEEZEGATE_GATEWAY_URL ?? 'ws://127.0.0.1:8787/v1/edge',
      modelsDir: resolveModelsDir({ configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR }),
      model: s('model'),
      policy: defined({ kind: 'threshold' as const, measure: s('measure'), threshold: num(s('threshold')) }),
      jpegQuality: num(s('jpeg-quality')),
      deadlineMs: num(s('deadline-ms')),
      maxInFlight: num(s('max-in-flight')),
      source: defined({
        dir: s('source') ?? env.SQUEEZEGATE_DATASET_DIR ?? '',
        labels: s('labels'),
        fps: num(s('fps')),
        limit: num(s('limit')),
      }),
      output: s('out'),
      logLevel: s('log-level') ?? env.SQUEEZEGATE_LOG_LEVEL,
    }),
  );
}
