// One run of the edge cascade over one clip, as an agent runs it: a real runtime reading the file
// through ffmpeg, offloading to a real gateway. With `temporal` off, the scene gate and the
// tracker are disabled: every analysed frame goes through the model (the reference run).
import { createDetectRuntime, createEdgeRuntime } from '@squeezegate/edge';
import { type Classifier, type Detector, type EdgeConfig, EdgeConfigSchema } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { FrameOutcome } from './agreement.ts';
import type { VideoTask } from './config.ts';
import { cpuSample, cpuSince } from './cpu.ts';
import type { DeviceCredential } from './gateway-process.ts';
import { classifyOutcome, detectOutcome } from './outcomes.ts';
import type { RunMeasure } from './summary.ts';

export interface CascadeRunOptions {
  file: string;
  task: VideoTask;
  fps: number;
  /** Scene gate and tracker on (the agent as deployed), or off (the reference). */
  temporal: boolean;
  pace: 'asap' | 'realtime';
  limit?: number | undefined;
  gatewayUrl: string;
  device: DeviceCredential;
  modelsDir: string;
  ffmpeg?: string | undefined;
  logger: Logger;
  /** Loaded once for every run, so no run pays (or measures) the model's loading. */
  classifier?: Classifier | undefined;
  detector?: Detector | undefined;
  signal?: AbortSignal | undefined;
}

/** The agent's config for one run, parsed by the agent's own schema. */
export function runConfig(o: CascadeRunOptions): EdgeConfig {
  return EdgeConfigSchema.parse({
    deviceId: o.device.id,
    token: o.device.token,
    gatewayUrl: o.gatewayUrl,
    modelsDir: o.modelsDir,
    task: o.task,
    // The gateway answers from its own process on loopback; a generous deadline keeps the
    // agreement about the gate and the tracker rather than about the machine being busy.
    deadlineMs: 5000,
    source: { url: o.file, fps: o.fps, pace: o.pace },
    video: {
      ...(o.ffmpeg ? { ffmpeg: o.ffmpeg } : {}),
      gate: { enabled: o.temporal },
      track: { enabled: o.temporal },
    },
    privacy: { faces: 'pixelate' },
  });
}

/** Runs the cascade over the clip once and measures it. */
export async function runCascade(o: CascadeRunOptions): Promise<RunMeasure> {
  const { limit } = o;
  const outcomes: FrameOutcome[] = [];
  let events = 0;
  // Video sources take no limit: the run stops once frame `limit - 1` has its result. Frames are
  // taken in order, so every earlier one was taken before it, and run() awaits their answers.
  // Closing the source too: its frame channel hands out frames it holds even after an abort.
  const enough = new AbortController();
  let stop = () => enough.abort();
  const keep = (outcome: FrameOutcome) => {
    outcomes.push(outcome);
    if (limit !== undefined && outcome.seq >= limit - 1 && !enough.signal.aborted) stop();
  };
  const common = { config: runConfig(o), logger: o.logger, onEvent: () => void events++ };
  const runtime =
    o.task === 'classify'
      ? await createEdgeRuntime({
          ...common,
          ...(o.classifier ? { classifier: o.classifier } : {}),
          onRecord: (r) => keep(classifyOutcome(r)),
        })
      : await createDetectRuntime({
          ...common,
          ...(o.detector ? { detector: o.detector } : {}),
          onRecord: (r) => keep(detectOutcome(r)),
        });
  stop = () => {
    enough.abort();
    for (const camera of runtime.cameras) void camera.source.close();
  };
  let wireBytes: number | null = null;
  const before = cpuSample();
  const started = performance.now();
  try {
    const signal = o.signal ? AbortSignal.any([o.signal, enough.signal]) : enough.signal;
    await runtime.run({ signal });
    wireBytes = runtime.link?.stats().wireBytes ?? null;
  } finally {
    // Closing ends ffmpeg and waits for it, so its CPU is in the sample below.
    await runtime.close();
  }
  const wallS = (performance.now() - started) / 1000;
  const cpu = cpuSince(before);
  const kept = outcomes.filter((x) => limit === undefined || x.seq < limit).sort((a, b) => a.seq - b.seq);
  return { outcomes: kept, events, cpuMs: cpu.selfMs, ffmpegCpuMs: cpu.childrenMs, wireBytes, wallS };
}
