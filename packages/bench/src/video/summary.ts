// Per-clip rows, totals over the set and the goals, from the two runs' frame outcomes. Pure.
import type { MachineInfo } from '../machine.ts';
import { agreement, type FrameOutcome, isInferred } from './agreement.ts';
import type { VideoTask } from './config.ts';

/** A clip as found on disk. */
export interface ClipFacts {
  name: string;
  file: string;
  bytes: number;
  /** The container's duration, seconds. */
  durationS: number;
  /** Video frames in the file (what a decoder decodes to play it all), null if ffmpeg did not say. */
  frames: number | null;
}

/** One run of the cascade over a clip. */
export interface RunMeasure {
  outcomes: FrameOutcome[];
  events: number;
  /** process.cpuUsage() delta over the run (the agent: models, gate, tracker, privacy, link). */
  cpuMs: number;
  /** CPU of the ffmpeg children over the run, null where the OS does not tell. */
  ffmpegCpuMs: number | null;
  /** Every byte the agent wrote to its socket (upgrade, hello, stats, frames), null if unknown. */
  wireBytes: number | null;
  wallS: number;
}

/** One clip and task: the keys the issue asks for, then the detail behind them. */
export interface VideoRow {
  name: string;
  task: VideoTask;
  /** Analysed duration: analysed frames / fps. */
  durationS: number;
  /**
   * The file's frames over the analysed duration: ffmpeg decodes every one of them, and its fps
   * filter keeps those analysed.
   */
  decodedFrames: number | null;
  analysedFrames: number;
  inferredFrames: number;
  reusedFrames: number;
  droppedFrames: number;
  failedFrames: number;
  /** Frames (classify) or crops and frames (detect) that left for the cloud. */
  offloads: number;
  /** Envelope bytes of every payload sent. */
  bytesUp: number;
  wireBytes: number | null;
  /** The file's own bytes for the analysed duration: streaming the camera to the cloud. */
  streamBytes: number;
  /** Every analysed frame as a q85 JPEG at the analysed size. */
  jpegBytes: number;
  agreement: number | null;
  edgeCpuMsPerFrame: number;
  ffmpegCpuMsPerFrame: number | null;
  events: number;
  /** The reference run (no gate, no tracker): what the gate and tracker save. */
  reference: { inferredFrames: number; offloads: number; bytesUp: number; edgeCpuMsPerFrame: number };
  /** Bytes up in each second of the clip (by analysed frame time), for the chart. */
  bytesUpPerS: number[];
  wallS: number;
}

export interface Totals {
  analysedFrames: number;
  inferredFrames: number;
  offloads: number;
  bytesUp: number;
  streamBytes: number;
  jpegBytes: number;
  events: number;
  bytesUpOverStream: number | null;
  bytesUpOverJpeg: number | null;
  inferredFraction: number | null;
  /** Per-frame agreement averaged over every analysed frame of the set. */
  agreement: number | null;
  edgeCpuMsPerFrame: number | null;
  /** null when any row's ffmpeg CPU is unknown. */
  ffmpegCpuMsPerFrame: number | null;
}

export interface VideoTotals extends Totals {
  byTask: Partial<Record<VideoTask, Totals>>;
}

/** How the figures were made, stored with them. */
export interface VideoSettings {
  source: string;
  fps: number;
  pace: 'asap' | 'realtime';
  limit: number | null;
  tasks: VideoTask[];
  edgeModel: string;
  detector: string;
  cloudModel: string;
  faces: string;
  ffmpeg: string;
}

export interface VideoBenchResults {
  machine: MachineInfo;
  command: string;
  settings: VideoSettings;
  runtimeS: number;
  videos: VideoRow[];
  totals: VideoTotals;
}

/** The file's bytes prorated to the analysed duration (a `--limit` run analyses part of it). */
export function streamBytes(fileBytes: number, analysedS: number, fileS: number): number {
  if (!(fileS > 0)) return fileBytes;
  return Math.round(fileBytes * Math.min(1, analysedS / fileS));
}

/** Bytes sent per second of the clip: frame `seq` is at `seq / fps` seconds. */
export function bytesPerSecond(outcomes: readonly FrameOutcome[], fps: number, seconds: number): number[] {
  const out = new Array<number>(Math.max(1, Math.ceil(seconds))).fill(0);
  for (const o of outcomes) {
    const s = Math.min(out.length - 1, Math.floor(o.seq / fps));
    out[s] = (out[s] ?? 0) + o.bytesSent;
  }
  return out;
}

const sum = (xs: readonly FrameOutcome[], f: (o: FrameOutcome) => number) => xs.reduce((n, o) => n + f(o), 0);
const count = (xs: readonly FrameOutcome[], kind: FrameOutcome['kind']) =>
  xs.filter((o) => o.kind === kind).length;

export function videoRow(args: {
  clip: ClipFacts;
  task: VideoTask;
  fps: number;
  gated: RunMeasure;
  reference: RunMeasure;
  jpegBytes: number;
}): VideoRow {
  const { clip, task, fps, gated, reference } = args;
  const g = gated.outcomes;
  const analysed = g.length;
  const durationS = analysed / fps;
  const perFrame = (ms: number, n: number) => (n > 0 ? ms / n : 0);
  return {
    name: clip.name,
    task,
    durationS,
    decodedFrames:
      clip.frames === null ? null : Math.round(clip.frames * Math.min(1, durationS / clip.durationS)),
    analysedFrames: analysed,
    inferredFrames: g.filter((o) => isInferred(o.kind)).length,
    reusedFrames: count(g, 'reused'),
    droppedFrames: count(g, 'dropped'),
    failedFrames: count(g, 'failed'),
    offloads: sum(g, (o) => o.payloads),
    bytesUp: sum(g, (o) => o.bytesSent),
    wireBytes: gated.wireBytes,
    streamBytes: streamBytes(clip.bytes, durationS, clip.durationS),
    jpegBytes: args.jpegBytes,
    agreement: agreement(g, reference.outcomes),
    edgeCpuMsPerFrame: perFrame(gated.cpuMs, analysed),
    ffmpegCpuMsPerFrame: gated.ffmpegCpuMs === null ? null : perFrame(gated.ffmpegCpuMs, analysed),
    events: gated.events,
    reference: {
      inferredFrames: reference.outcomes.filter((o) => isInferred(o.kind)).length,
      offloads: sum(reference.outcomes, (o) => o.payloads),
      bytesUp: sum(reference.outcomes, (o) => o.bytesSent),
      edgeCpuMsPerFrame: perFrame(reference.cpuMs, reference.outcomes.length),
    },
    bytesUpPerS: bytesPerSecond(g, fps, durationS),
    wallS: gated.wallS,
  };
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

function totalsOf(rows: readonly VideoRow[]): Totals {
  const add = (f: (r: VideoRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const analysedFrames = add((r) => r.analysedFrames);
  const bytesUp = add((r) => r.bytesUp);
  const stream = add((r) => r.streamBytes);
  const jpeg = add((r) => r.jpegBytes);
  const inferredFrames = add((r) => r.inferredFrames);
  const scored = rows.filter((r) => r.agreement !== null);
  const scoredFrames = scored.reduce((n, r) => n + r.analysedFrames, 0);
  return {
    analysedFrames,
    inferredFrames,
    offloads: add((r) => r.offloads),
    bytesUp,
    streamBytes: stream,
    jpegBytes: jpeg,
    events: add((r) => r.events),
    bytesUpOverStream: ratio(bytesUp, stream),
    bytesUpOverJpeg: ratio(bytesUp, jpeg),
    inferredFraction: ratio(inferredFrames, analysedFrames),
    agreement: ratio(
      scored.reduce((n, r) => n + (r.agreement ?? 0) * r.analysedFrames, 0),
      scoredFrames,
    ),
    edgeCpuMsPerFrame: ratio(
      add((r) => r.edgeCpuMsPerFrame * r.analysedFrames),
      analysedFrames,
    ),
    ffmpegCpuMsPerFrame: rows.some((r) => r.ffmpegCpuMsPerFrame === null)
      ? null
      : ratio(
          add((r) => (r.ffmpegCpuMsPerFrame ?? 0) * r.analysedFrames),
          analysedFrames,
        ),
  };
}

/** Totals over every row, and per task. */
export function videoTotals(rows: readonly VideoRow[]): VideoTotals {
  const byTask: Partial<Record<VideoTask, Totals>> = {};
  for (const task of new Set(rows.map((r) => r.task)))
    byTask[task] = totalsOf(rows.filter((r) => r.task === task));
  return { ...totalsOf(rows), byTask };
}

/** The goals. */
export const GOALS = { bytesUpOverStream: 1 / 20, agreement: 0.97, inferredFraction: 0.6 } as const;

export interface GoalCheck {
  /** What is checked, e.g. "car-detection, detect: bytes up / stream". */
  what: string;
  value: number | null;
  goal: number;
  /** `max`: the value must not exceed the goal; `min`: must reach it. */
  bound: 'max' | 'min';
  met: boolean;
}

const check = (what: string, value: number | null, goal: number, bound: 'max' | 'min'): GoalCheck => ({
  what,
  value,
  goal,
  bound,
  met: value !== null && (bound === 'max' ? value <= goal : value >= goal),
});

/** Every goal, per clip and task, and the inferred fraction per task over the set. */
export function goalChecks(rows: readonly VideoRow[], totals: VideoTotals): GoalCheck[] {
  const out: GoalCheck[] = [];
  for (const r of rows) {
    out.push(
      check(
        `${r.name}, ${r.task}: bytes up / stream`,
        ratio(r.bytesUp, r.streamBytes),
        GOALS.bytesUpOverStream,
        'max',
      ),
      check(`${r.name}, ${r.task}: agreement`, r.agreement, GOALS.agreement, 'min'),
    );
  }
  for (const [task, t] of Object.entries(totals.byTask)) {
    out.push(
      check(
        `${task}, all clips: model on analysed frames`,
        t.inferredFraction,
        GOALS.inferredFraction,
        'max',
      ),
    );
  }
  return out;
}
