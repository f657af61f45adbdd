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
import { looksLikeVideo } from '../source/open-source.ts';
import {
  fusionFromFlags,
  POLICY_FLAGS,
  POLICY_HELP,
  payloadFromFlags,
  policyFromFlags,
} from './policy-flags.ts';
import { detectFromFlags, privacyFromFlags, TASK_FLAGS, TASK_HELP } from './task-flags.ts';

export const EDGE_HELP = `Usage: squeezegate-edge [options]
       squeezegate-edge calibrate --help
       squeezegate-edge audit --help

Reads a camera (a video file, an RTSP or HTTP stream, a V4L2 device) or a folder of images,
classifies each frame locally (or finds its objects, --task detect) and offloads what it is unsure
of to a squeezegate gateway, faces pixelated first. On video, a frame like the last one analysed
reuses its result, and a tracked object is sent once. Writes one JSON line per frame; runs until
the source ends, or until SIGTERM for a live camera or a looping file.

Options (environment variable in brackets):
  --config <file>          a YAML or JSON config file, or the fragment \`squeezegate-edge calibrate\`
                           writes (see deploy/config/edge.example.yaml); flags and variables win
  --print-config           print the effective configuration (secrets masked) and exit
  --gateway <url>          gateway WebSocket URL [SQUEEZEGATE_GATEWAY_URL] (default ws://127.0.0.1:8787/v1/edge);
                           repeat for several gateways [comma-separated]: the agent dials the
                           next when its gateway is gone and resends unanswered frames there
  --device-id <id>         this device's id [SQUEEZEGATE_DEVICE_ID] (default: host name)
  --token <token>          this device's token [SQUEEZEGATE_TOKEN]
  --source <src>           where frames come from [SQUEEZEGATE_DATASET_DIR]: a folder of images,
                           a video file (.mp4 .mkv .avi .mov), rtsp(s)://…, http(s)://… (MJPEG
                           stream or snapshot URL) or /dev/videoN; several cameras: \`cameras:\`
                           in a config file (see deploy/config/edge.example.yaml)
  --labels <csv>           labels manifest (file,class_index); default <dir>/manifest.csv if present
  --fps <n>                video: frames analysed per second (default 5); folders: replay rate,
                           0 = as fast as possible (default 0)
  --loop                   video files: replay forever, at the file's own rate, as a camera would
  --pace <asap|realtime>   video files: as fast as the model takes frames (default) or at the
                           file's rate (then, as on a live camera, the newest frame wins)
  --rtsp-transport <t>     tcp | udp (default tcp)
  --ffmpeg <path>          ffmpeg binary [SQUEEZEGATE_FFMPEG] (default: the one npm installs, else PATH)
  --gate <on|off>          video: skip the model on frames like the last analysed one (default on)
  --track <on|off>         video, --task detect: track objects, send each once (default on)
  --events <file>          video: track and scene events as JSON lines
  --mqtt-url <url>         video: publish the events to MQTT (Frigate's frigate/events layout)
  --mqtt-prefix <p>        topic prefix: <p>/events, <p>/available (default frigate)
  --limit <n>              replay only the first n frames
  --model <id>             edge model: squeezenet1.1 | squeezenet1.0-deepcompression (default squeezenet1.1)
  --deadline-ms <ms>       wait this long for the cloud, then keep the local answer (default 1000)
  --busy-backoff-ms <base,max>
                           after BUSY, send nothing for a random while in [0, min(max, base·2^n))
                           (full jitter; n: backoffs since the last answer) (default 50,2000)
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
  squeezegate-edge --source rtsp://camera.local:554/stream1 --token s3cret-token --events events.jsonl
  squeezegate-edge --source parking.mp4 --loop --task detect --mqtt-url mqtt://127.0.0.1:1883
  squeezegate-edge --source /var/frames --fps 5 --measure margin --threshold 0.3 --out results.jsonl
  squeezegate-edge --source /var/frames --policy rate --target 0.25
  squeezegate-edge --source /var/frames --gateway wss://gw-a:8787/v1/edge --gateway wss://gw-b:8787/v1/edge
  squeezegate-edge --source /var/frames --policy budget --bytes-per-second 20000
  squeezegate-edge --source /var/frames --config calibrated.json
  squeezegate-edge --task detect --source ../shared/datasets/detection-sample/images --token s3cret-token
  squeezegate-edge --source /var/frames --faces withhold --mask "0,0 0.3,0 0.3,1 0,1" --privacy-ledger ledger.jsonl

Exit codes: 0 done, 1 unexpected failure, 2 invalid configuration, 3 model files missing or corrupt,
4 frame source unreadable, 6 privacy ledger cannot be opened.
`;

const num = numberOrUndefined;
const defined = definedOnly;

/** `--source` as a folder (`dir`) or a video source (`url`); a flag replaces the file's choice. */
function sourceFrom(
  flag: string | undefined,
  base: Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (flag === undefined) return base.dir || base.url ? base : undefined;
  const { dir: _d, url: _u, ...rest } = base;
  return looksLikeVideo(flag) ? { ...rest, url: flag } : { ...rest, dir: flag };
}

const onOff = (v: string | undefined) =>
  v === undefined ? undefined : v === 'on' ? true : v === 'off' ? false : v;

/** The video settings: flags over the file's `video:` section. */
function videoFromFlags(
  values: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  file: Record<string, unknown> = {},
): Record<string, unknown> {
  const s = (k: string) => values[k] as string | undefined;
  const mqttFile = (file.mqtt ?? {}) as Record<string, unknown>;
  const mqttUrl = s('mqtt-url') ?? (mqttFile.url as string | undefined);
  return {
    ...file,
    ...defined({
      ffmpeg: s('ffmpeg') ?? env.SQUEEZEGATE_FFMPEG ?? file.ffmpeg,
      events: s('events') ?? file.events,
      gate: { ...(file.gate as object | undefined), ...defined({ enabled: onOff(s('gate')) }) },
      track: { ...(file.track as object | undefined), ...defined({ enabled: onOff(s('track')) }) },
      mqtt: mqttUrl ? { ...mqttFile, ...defined({ url: mqttUrl, prefix: s('mqtt-prefix') }) } : undefined,
    }),
  };
}

const DEFAULT_GATEWAY = 'ws://127.0.0.1:8787/v1/edge';

/**
 * The gateway list: repeated --gateway, else SQUEEZEGATE_GATEWAY_URL (comma-separated), else the
 * file's `gatewayUrl` (one URL or a list) and `failover`. A flag or variable replaces the file's
 * whole list. The first is `gatewayUrl`, the others `failover`.
 */
function gatewaysFrom(
  flags: readonly string[] | undefined,
  variable: string | undefined,
  file: Record<string, unknown>,
): Record<string, unknown> {
  const given = flags?.length
    ? flags
    : variable
        ?.split(',')
        .map((u) => u.trim())
        .filter(Boolean);
  if (given?.length) return { gatewayUrl: given[0], failover: given.length > 1 ? given.slice(1) : undefined };
  if (!Array.isArray(file.gatewayUrl))
    return { gatewayUrl: file.gatewayUrl ?? DEFAULT_GATEWAY, failover: file.failover };
  const [first, ...rest] = file.gatewayUrl as unknown[];
  const more = [...rest, ...(Array.isArray(file.failover) ? file.failover : [])];
  return { gatewayUrl: first ?? DEFAULT_GATEWAY, failover: more.length > 0 ? more : file.failover };
}

/** `--busy-backoff-ms base,max` over the file's `busyBackoff`; the schema judges the numbers. */
function busyBackoffFrom(flag: string | undefined, file: unknown): unknown {
  if (flag === undefined) return file;
  const [baseMs, maxMs] = flag.split(',').map((v) => (v.trim() === '' ? undefined : Number(v)));
  return { ...(file as object | undefined), ...definedOnly({ baseMs, maxMs }) };
}

export type CliParse<T> = ConfigResult<T> | { ok: 'help' };

/** Edge config from flags over a config file over environment variables over defaults. */
export async function edgeConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliParse<EdgeConfig> & { printConfig?: boolean }> {
  const cli = await readCli(argv, {
    gateway: { type: 'string', multiple: true },
    'busy-backoff-ms': { type: 'string' },
    'device-id': { type: 'string' },
    token: { type: 'string' },
    source: { type: 'string' },
    labels: { type: 'string' },
    fps: { type: 'string' },
    limit: { type: 'string' },
    loop: { type: 'boolean' },
    pace: { type: 'string' },
    'rtsp-transport': { type: 'string' },
    ffmpeg: { type: 'string' },
    gate: { type: 'string' },
    track: { type: 'string' },
    events: { type: 'string' },
    'mqtt-url': { type: 'string' },
    'mqtt-prefix': { type: 'string' },
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
  if (values.source !== undefined && Array.isArray(file.cameras) && file.cameras.length > 0)
    return { ok: false, issues: ['--source: the config file lists cameras; give either, not both'] };
  const s = (k: string) => values[k] as string | undefined;
  const fileSource = (file.source ?? {}) as Record<string, unknown>;
  const { gatewayUrl: _gatewayUrl, failover: _failover, ...fileRest } = file;
  const parsed = parseConfig(EdgeConfigSchema, {
    ...fileRest,
    ...defined({
      ...gatewaysFrom(values.gateway as string[] | undefined, env.SQUEEZEGATE_GATEWAY_URL, file),
      busyBackoff: busyBackoffFrom(s('busy-backoff-ms'), file.busyBackoff),
      deviceId:
        s('device-id') ??
        env.SQUEEZEGATE_DEVICE_ID ??
        file.deviceId ??
        hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
      token: s('token') ?? env.SQUEEZEGATE_TOKEN ?? file.token ?? '',
      modelsDir: resolveModelsDir({
        configured: s('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
      }),
      task: s('task'),
      model: s('model'),
      detect: detectFromFlags(values, file.detect as Record<string, unknown> | undefined),
      privacy: privacyFromFlags(values, file.privacy as Record<string, unknown> | undefined),
      policy: policyFromFlags(values, file.policy as Record<string, unknown> | undefined),
      payload: payloadFromFlags(values, file.payload as Record<string, unknown> | undefined),
      fusion: fusionFromFlags(values, file.fusion as Record<string, unknown> | undefined),
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
      source: sourceFrom(
        s('source') ?? (file.source || file.cameras ? undefined : env.SQUEEZEGATE_DATASET_DIR),
        {
          ...fileSource,
          ...defined({
            labels: s('labels'),
            fps: num(s('fps')),
            limit: num(s('limit')),
            loop: values.loop === true ? true : undefined,
            pace: s('pace'),
            rtspTransport: s('rtsp-transport'),
          }),
        },
      ),
      video: videoFromFlags(values, env, file.video as Record<string, unknown> | undefined),
      output: s('out'),
      logLevel: s('log-level') ?? env.SQUEEZEGATE_LOG_LEVEL,
    }),
  });
  return cli.printConfig ? { ...parsed, printConfig: true } : parsed;
}
