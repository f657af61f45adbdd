import { definedOnly, numberOrUndefined } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, datasetAndModels, readBenchCli } from '../cli.ts';
import { publishProblems } from '../publish.ts';

export const GATEWAY_BENCH_HELP = `Usage: npm run bench:gateway -- [options]
       npm run bench:gateway -- --wire [options]   the remote tier's wire, JSON against binary

The gateway against its floor. N simulated devices, in a process of their own, send JPEG crops
(as the agents send them) to a gateway on loopback. The floor is a bare loop that decodes,
preprocesses and infers the same payloads with the same inference workers and threads: no
sockets, no protocol, no queue. In one run:
  - the cloud model's per-image throughput at each --batches size (onnxruntime alone);
  - per --workers count: the gateway's frames/s flat out against the floor's (floor run before
    and after, averaged), and CPU ms per frame of each;
  - at the first worker count: batching off, the p99 latency at half the measured capacity
    against the floor's per-frame p99 at the same pace, and a 10x overload.
Goals (issue 14): overFloor >= 0.8, p99HalfLoadMs - p99FloorMs <= 5 ms.

Options (environment variable in brackets):
  --dataset <dir>     images to make the payloads from [SQUEEZEGATE_DATASET_DIR]
  --models-dir <dir>  [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --devices <n>       simulated devices (default 4)
  --frames <n>        frames per run, over all devices (default 800)
  --window <n>        frames each device keeps in flight (default 4)
  --workers <list>    gateway inference workers, one count or several, e.g. 1,2 (default 1)
  --threads <n>       onnxruntime threads per worker (default: the cores shared out among
                      the workers, at least 1)
  --max-batch <n>     (default 8)
  --max-queue-delay-ms <ms>
                      (default 2)
  --batches <list>    batch sizes of the model's throughput table (default 1,4,8,16)
  --overload <x>      in-flight multiplier for the overload run (default 10)
  --json <file>       write the figures as JSON
  --out <dir>         write results.json and table.md there
  --doc <file>        refresh this bench's section of a docs file (between <!-- bench:gateway:start -->
                      and <!-- bench:gateway:end -->)
  --readme <file>     refresh this bench's rows of the README's headline table
${COMMON_HELP}

Examples:
  npm run bench:gateway -- --dataset ../shared/datasets/imagenet-sample --json gateway.json
  npm run bench:gateway -- --dataset ../shared/datasets/imagenet-sample --workers 1,2 \\
    --out docs/bench/gateway --doc docs/benchmarks.md --readme README.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options.
`;

const Count = z.number().int().positive();
/** `1,2` or `[1, 2]` (a config file) → distinct positive integers, in order. */
const CountList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s))) : v),
  z
    .array(Count, { error: 'a comma-separated list of positive integers' })
    .min(1)
    .refine((a) => new Set(a).size === a.length, 'no count twice'),
);

export const GatewayBenchSchema = z
  .object({
    dataset: z.string().min(1, 'no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR'),
    modelsDir: z.string().min(1),
    devices: Count.default(4),
    frames: Count.default(800),
    window: Count.default(4),
    workers: CountList.default([1]),
    threads: Count.optional(),
    maxBatch: Count.default(8),
    maxQueueDelayMs: z.number().min(0).default(2),
    batches: CountList.default([1, 4, 8, 16]),
    overload: Count.default(10),
    json: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    doc: z.string().min(1).optional(),
    readme: z.string().min(1).optional(),
  })
  .strict();
export type GatewayBenchConfig = z.infer<typeof GatewayBenchSchema>;

/** The gateway bench's settings from flags over environment variables over a config file. */
export function gatewayBenchConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<BenchCli<GatewayBenchConfig>> {
  const counts = {
    devices: 'devices',
    frames: 'frames',
    window: 'window',
    threads: 'threads',
    maxBatch: 'max-batch',
    maxQueueDelayMs: 'max-queue-delay-ms',
    overload: 'overload',
  } as const;
  const lists = { workers: 'workers', batches: 'batches' } as const;
  return readBenchCli({
    name: 'bench:gateway',
    help: GATEWAY_BENCH_HELP,
    argv,
    schema: GatewayBenchSchema,
    flags: {
      dataset: { type: 'string' },
      'models-dir': { type: 'string' },
      ...Object.fromEntries(
        [...Object.values(counts), ...Object.values(lists)].map((f) => [f, { type: 'string' as const }]),
      ),
      json: { type: 'string' },
      out: { type: 'string' },
      doc: { type: 'string' },
      readme: { type: 'string' },
    },
    raw: (flag, file) => ({
      ...file,
      ...definedOnly({
        ...datasetAndModels(flag, env, file),
        ...Object.fromEntries(Object.entries(counts).map(([key, f]) => [key, numberOrUndefined(flag(f))])),
        ...Object.fromEntries(Object.entries(lists).map(([key, f]) => [key, flag(f)])),
        json: flag('json'),
        out: flag('out'),
        doc: flag('doc'),
        readme: flag('readme'),
      }),
    }),
    check: ({ doc, readme }) => publishProblems({ bench: 'gateway', doc, readme }),
  });
}
