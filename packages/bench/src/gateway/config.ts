import { definedOnly, numberOrUndefined, resolveModelsDir } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, readBenchCli } from '../cli.ts';
import { publishProblems } from '../publish.ts';

export const GATEWAY_BENCH_HELP = `Usage: npm run bench:gateway -- [options]

N simulated devices (worker threads) on loopback send JPEG crops to a gateway as fast as it
answers, for a fixed number of frames. Reports frames/s, latency, mean batch size and peak RSS,
and, in the same run, the ratio against the same gateway with batching off and against a bare
onnxruntime-node loop over the same preprocessed tensors; then a 10x overload.

Options (environment variable in brackets):
  --dataset <dir>     images to make the payloads from [SQUEEZEGATE_DATASET_DIR]
  --models-dir <dir>  [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --devices <n>       simulated devices (default 4)
  --frames <n>        frames per run, over all devices (default 800)
  --window <n>        frames each device keeps in flight (default 4)
  --workers <n>       gateway inference workers (default 1)
  --threads <n>       onnxruntime threads per worker (default 2)
  --max-batch <n>     (default 8)
  --max-queue-delay-ms <ms>
                      (default 2)
  --overload <x>      in-flight multiplier for the overload run (default 10)
  --json <file>       write the figures as JSON
  --out <dir>         write results.json and table.md there
  --doc <file>        refresh this bench's section of a docs file (between <!-- bench:gateway:start -->
                      and <!-- bench:gateway:end -->)
  --readme <file>     refresh this bench's rows of the README's headline table
${COMMON_HELP}

Examples:
  npm run bench:gateway -- --dataset ../shared/datasets/imagenet-sample --json gateway.json
  npm run bench:gateway -- --dataset ../shared/datasets/imagenet-sample --out docs/bench/gateway \\
    --doc docs/benchmarks.md --readme README.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options.
`;

const Count = z.number().int().positive();

export const GatewayBenchSchema = z
  .object({
    dataset: z.string().min(1, 'no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR'),
    modelsDir: z.string().min(1),
    devices: Count.default(4),
    frames: Count.default(800),
    window: Count.default(4),
    workers: Count.default(1),
    threads: Count.default(2),
    maxBatch: Count.default(8),
    maxQueueDelayMs: z.number().min(0).default(2),
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
    workers: 'workers',
    threads: 'threads',
    maxBatch: 'max-batch',
    maxQueueDelayMs: 'max-queue-delay-ms',
    overload: 'overload',
  } as const;
  return readBenchCli({
    name: 'bench:gateway',
    help: GATEWAY_BENCH_HELP,
    argv,
    schema: GatewayBenchSchema,
    flags: {
      dataset: { type: 'string' },
      'models-dir': { type: 'string' },
      ...Object.fromEntries(Object.values(counts).map((f) => [f, { type: 'string' as const }])),
      json: { type: 'string' },
      out: { type: 'string' },
      doc: { type: 'string' },
      readme: { type: 'string' },
    },
    raw: (flag, file) => ({
      ...file,
      ...definedOnly({
        dataset: flag('dataset') ?? env.SQUEEZEGATE_DATASET_DIR ?? file.dataset ?? '',
        modelsDir: resolveModelsDir({
          configured:
            flag('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
        }),
        ...Object.fromEntries(Object.entries(counts).map(([key, f]) => [key, numberOrUndefined(flag(f))])),
        json: flag('json'),
        out: flag('out'),
        doc: flag('doc'),
        readme: flag('readme'),
      }),
    }),
    check: ({ doc, readme }) => publishProblems({ bench: 'gateway', doc, readme }),
  });
}
