import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { definedOnly, numberOrUndefined, resolveModelsDir } from '@squeezegate/shared';
import { z } from 'zod';
import { type BenchCli, COMMON_HELP, readBenchCli } from '../cli.ts';
import { spliceSection } from '../publish.ts';

/** The marker name of this bench's section in a docs file: `<!-- bench:video:start -->`. */
export const VIDEO_SECTION = 'video';

export const VIDEO_BENCH_HELP = `Usage: npm run bench:video -- [options]

Runs the edge cascade over each video (a gateway on loopback, in its own process, answers the
offloads) twice: once as an agent runs it (scene gate and tracker on), once on every analysed
frame with neither (the reference). Per clip and task it reports frames decoded and analysed,
frames through the edge model, offloads, bytes up against streaming the file (streamBytes) and
against every analysed frame as a q85 JPEG (jpegBytes), agreement with the reference (classify:
same label; detect: F1 at IoU 0.5 with matching labels, averaged over frames), the edge's CPU
milliseconds per analysed frame and the events written.

Options (environment variable in brackets):
  --source <file|dir>  a video (.mp4 .mkv .avi .mov) or a folder of them
                       (default: video-sample beside SQUEEZEGATE_DATASET_DIR, else
                       ../shared/datasets/video-sample)
  --task <t>           classify, detect or both (default both)
  --fps <n>            analysis rate (default 5)
  --pace <p>           the gated run's pace: asap (every frame decided) or realtime (the file's
                       rate, frames the model cannot keep up with are dropped) (default asap)
  --limit <n>          analyse at most n frames of each clip (quick runs)
  --models-dir <dir>   [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --ffmpeg <path>      [SQUEEZEGATE_FFMPEG] (default: the bundled one, else ffmpeg on PATH)
  --json <file>        also write the figures as JSON there
  --out <dir>          results.json, table.md and chart.svg (default docs/bench/video)
  --doc <file>         refresh this bench's section of a docs file (between
                       <!-- bench:video:start --> and <!-- bench:video:end -->)
${COMMON_HELP}

Goals, printed against, never asserted: bytes up at most 1/20 of streamBytes per clip and task,
agreement at least 0.97, the edge model on at most 60 % of analysed frames over the set.

Example:
  SQUEEZEGATE_MODELS_DIR=../shared/models npm run bench:video -- --doc docs/benchmarks.md

Exit codes: 0 done, 1 unexpected failure, 2 invalid options, 3 model files missing or corrupt,
4 a video unreadable or no ffmpeg.
`;

export const VIDEO_TASKS = ['classify', 'detect'] as const;
export type VideoTask = (typeof VIDEO_TASKS)[number];

const Count = z.number().int().positive();

export const VideoBenchSchema = z
  .object({
    source: z.string().min(1),
    task: z.enum(['classify', 'detect', 'both']).default('both'),
    fps: z.number().positive().max(60).default(5),
    pace: z.enum(['asap', 'realtime']).default('asap'),
    limit: Count.optional(),
    modelsDir: z.string().min(1),
    ffmpeg: z.string().min(1).optional(),
    json: z.string().min(1).optional(),
    out: z.string().min(1),
    doc: z.string().min(1).optional(),
  })
  .strict();
export type VideoBenchConfig = z.infer<typeof VideoBenchSchema>;

/** The tasks a config asks for, in report order. */
export const tasksOf = (task: VideoBenchConfig['task']): VideoTask[] =>
  task === 'both' ? [...VIDEO_TASKS] : [task];

/** `video-sample` beside the labelled image set, where the datasets live side by side. */
export function defaultVideoSource(datasetDir: string | undefined): string {
  return datasetDir
    ? path.join(path.dirname(path.resolve(datasetDir)), 'video-sample')
    : '../shared/datasets/video-sample';
}

/** A docs file this bench cannot splice into (unreadable, or without its markers). */
export async function docProblems(doc: string | undefined): Promise<string[]> {
  if (!doc) return [];
  try {
    spliceSection(await readFile(doc, 'utf8'), '', VIDEO_SECTION, doc);
    return [];
  } catch (err) {
    return [`doc: ${(err as Error).message}`];
  }
}

/** The video bench's settings from flags over environment variables over a config file. */
export function videoBenchConfigFromCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  { root = process.cwd() }: { root?: string } = {},
): Promise<BenchCli<VideoBenchConfig>> {
  return readBenchCli({
    name: 'bench:video',
    help: VIDEO_BENCH_HELP,
    argv,
    schema: VideoBenchSchema,
    flags: {
      source: { type: 'string' },
      task: { type: 'string' },
      fps: { type: 'string' },
      pace: { type: 'string' },
      limit: { type: 'string' },
      'models-dir': { type: 'string' },
      ffmpeg: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      doc: { type: 'string' },
    },
    raw: (flag, file) => ({
      ...file,
      ...definedOnly({
        source:
          flag('source') ??
          (file.source as string | undefined) ??
          defaultVideoSource(env.SQUEEZEGATE_DATASET_DIR),
        task: flag('task'),
        fps: numberOrUndefined(flag('fps')),
        pace: flag('pace'),
        limit: numberOrUndefined(flag('limit')),
        modelsDir: resolveModelsDir({
          configured:
            flag('models-dir') ?? env.SQUEEZEGATE_MODELS_DIR ?? (file.modelsDir as string | undefined),
        }),
        ffmpeg: flag('ffmpeg') ?? env.SQUEEZEGATE_FFMPEG ?? file.ffmpeg,
        json: flag('json'),
        out: flag('out') ?? file.out ?? path.join(root, 'docs/bench/video'),
        doc: flag('doc'),
      }),
    }),
    check: ({ doc }) => docProblems(doc),
  });
}
