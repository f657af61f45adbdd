import path from 'node:path';
import { definedOnly, numberOrUndefined, resolveModelsDir } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, readBenchCli } from '../cli.ts';
import { publishProblems } from '../publish.ts';
import { defaultVideoSource } from '../video/config.ts';

export const EDGE_BENCH_HELP = `Usage: npm run bench:edge -- [options]

The edge agent's CPU per frame against the floor: a bare loop of the same libraries, model and
thread settings over the same frames (images: read, sharp decode and resize, crop and float
tensor, SqueezeNet 1.1 in onnxruntime with one thread; video: ffmpeg raw frames at the agent's
rate and size, then crop, tensor, model). The agent is the real CLI (packages/edge/dist/main.js,
run \`npm run build\` first) in its own process, with a gateway in another: once with
\`--policy never --faces off\`, once with its defaults; on video with \`--gate off\` too, so that
every frame goes through the model, and with 1 and with 4 cameras for memory. CPU is read from
/proc between the agent's warm-up-th record and its last one: start-up and shutdown are left out.

Options (environment variable in brackets):
  --dataset <dir>      images [SQUEEZEGATE_DATASET_DIR]
  --video <file>       a clip (default vtest.avi in video-sample beside the dataset)
  --frames <n>         measured frames per run (default 400)
  --warmup <n>         frames before measuring (default 20)
  --fps <n>            video analysis rate (default 5)
  --cameras <n>        cameras of the memory run (default 4)
  --models-dir <dir>   [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --ffmpeg <path>      [SQUEEZEGATE_FFMPEG] (default: the agent's, the bundled one, else PATH)
  --json <file>        also write the figures there
  --out <dir>          results.json and table.md (default docs/bench/edge)
  --doc <file>         refresh this bench's section of a docs file (between
                       <!-- bench:edge:start --> and <!-- bench:edge:end -->)
${COMMON_HELP}

Goal, printed against, never asserted: overFloor (agent over floor, never/off) at most 1.15.

Example:
  npm run bench:edge -- --json docs/bench/edge/results.json --doc docs/benchmarks.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options, 3 model files missing or corrupt,
4 the video unreadable or no ffmpeg.
`;

const Count = z.number().int().positive();

export const EdgeBenchSchema = z
  .object({
    dataset: z.string().min(1, 'no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR'),
    video: z.string().min(1),
    frames: Count.default(400),
    warmup: Count.default(20),
    fps: z.number().positive().max(60).default(5),
    cameras: Count.max(16).default(4),
    modelsDir: z.string().min(1),
    ffmpeg: z.string().min(1).optional(),
    json: z.string().min(1).optional(),
    out: z.string().min(1),
    doc: z.string().min(1).optional(),
  })
  .strict();
export type EdgeBenchConfig = z.infer<typeof EdgeBenchSchema>;

/** The edge bench's settings from flags over environment variables over a config file. */
export function edgeBenchConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  { root = process.cwd() }: { root?: string } = {},
): Promise<BenchCli<EdgeBenchConfig>> {
  return readBenchCli({
    name: 'bench:edge',
    help: EDGE_BENCH_HELP,
    argv,
    schema: EdgeBenchSchema,
    flags: Object.fromEntries(
      [
        'dataset',
        'video',
        'frames',
        'warmup',
        'fps',
        'cameras',
        'models-dir',
        'ffmpeg',
        'json',
        'out',
        'doc',
      ].map((f) => [f, { type: 'string' as const }]),
    ),
    raw: (flag, file) => {
      const dataset = flag('dataset') ?? env.SQUEEZEGATE_DATASET_DIR ?? (file.dataset as string | undefined);
      return {
        ...file,
        ...definedOnly({
          dataset: dataset ?? '',
          video:
            flag('video') ??
            (file.video as string | undefined) ??
            path.join(defaultVideoSource(dataset), 'vtest.avi'),
          frames: numberOrUndefined(flag('frames')),
          warmup: numberOrUndefined(flag('warmup')),
          fps: numberOrUndefined(flag('fps')),
          cameras: numberOrUndefined(flag('cameras')),
          modelsDir: resolveModelsDir({
            configured:
              flag('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
          }),
          ffmpeg: flag('ffmpeg') ?? env.SQUEEZEGATE_FFMPEG ?? file.ffmpeg,
          json: flag('json'),
          out: flag('out') ?? file.out ?? path.join(root, 'docs/bench/edge'),
          doc: flag('doc'),
        }),
      };
    },
    check: ({ doc }) => publishProblems({ bench: 'edge', doc }),
  });
}
