import { definedOnly, numberOrUndefined, resolveModelsDir } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, readBenchCli } from '../cli.ts';
import { publishProblems } from '../publish.ts';

export const DETECT_BENCH_HELP = `Usage: npm run bench:detect -- [options]

Offline, on the detection sample and the ImageNet sample (no gateway):
  1. every detector's detect() latency (against YOLOX-Nano), detections per frame, P/R/AP@0.5;
  2. tiling auto against off on the KITTI frames;
  3. the bytes the object-level cascade sends (default detect and privacy config) against
     sending every frame as captured and every frame as a q85 JPEG at 256 px short side;
  4. what face redaction (UltraFace-320) costs a payload at 320 px short side and a 224 crop,
     and whether the redacted faces can still be found;
  5. the cloud classifier's top-1 on crop payloads plain, blurred and pixelated.

Options (environment variable in brackets):
  --dataset <dir>     detection sample (labels.json, images/) [SQUEEZEGATE_DETECTION_DATASET_DIR]
                      (default ../shared/datasets/detection-sample)
  --imagenet <dir>    labelled ImageNet sample (manifest.csv) [SQUEEZEGATE_DATASET_DIR]
                      (default ../shared/datasets/imagenet-sample)
  --models-dir <dir>  [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --runs <n>          latency repetitions over every image (default 3)
  --limit <n>         ImageNet images for sections 4 and 5, spread evenly over the set (default 300)
  --threads <n>       onnxruntime intra-op threads per session (default 1, as the edge agent)
  --json <file>       write the figures as JSON
  --out <dir>         write results.json and table.md there
  --doc <file>        refresh this bench's section of a docs file (between <!-- bench:detect:start -->
                      and <!-- bench:detect:end -->)
  --readme <file>     refresh this bench's rows of the README's headline table
${COMMON_HELP}

Examples:
  SQUEEZEGATE_MODELS_DIR=../shared/models npm run bench:detect -- --out docs/bench/detect
  npm run bench:detect -- --out docs/bench/detect --doc docs/benchmarks.md --readme README.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options, 3 model files missing or corrupt,
4 dataset unreadable.
`;

const Count = z.number().int().positive();

export const DetectBenchSchema = z
  .object({
    dataset: z.string().min(1),
    imagenet: z.string().min(1),
    modelsDir: z.string().min(1),
    runs: Count.default(3),
    limit: Count.default(300),
    threads: Count.default(1),
    json: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    doc: z.string().min(1).optional(),
    readme: z.string().min(1).optional(),
  })
  .strict();
export type DetectBenchConfig = z.infer<typeof DetectBenchSchema>;

/** The detection bench's settings from flags over environment variables over a config file. */
export function detectBenchConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<BenchCli<DetectBenchConfig>> {
  return readBenchCli({
    name: 'bench:detect',
    help: DETECT_BENCH_HELP,
    argv,
    schema: DetectBenchSchema,
    flags: {
      dataset: { type: 'string' },
      imagenet: { type: 'string' },
      'models-dir': { type: 'string' },
      runs: { type: 'string' },
      limit: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      doc: { type: 'string' },
      readme: { type: 'string' },
    },
    raw: (flag, file) => ({
      ...file,
      ...definedOnly({
        dataset:
          flag('dataset') ??
          env.SQUEEZEGATE_DETECTION_DATASET_DIR ??
          file.dataset ??
          '../shared/datasets/detection-sample',
        imagenet:
          flag('imagenet') ??
          env.SQUEEZEGATE_DATASET_DIR ??
          file.imagenet ??
          '../shared/datasets/imagenet-sample',
        modelsDir: resolveModelsDir({
          configured:
            flag('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
        }),
        runs: numberOrUndefined(flag('runs')),
        limit: numberOrUndefined(flag('limit')),
        threads: numberOrUndefined(flag('threads')),
        json: flag('json'),
        out: flag('out'),
        doc: flag('doc'),
        readme: flag('readme'),
      }),
    }),
    check: ({ doc, readme }) => publishProblems({ bench: 'detect', doc, readme }),
  });
}
