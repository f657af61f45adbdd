import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type CameraEvent,
  classifySource,
  createDetectRuntime,
  createEdgeRuntime,
  type DetectRecord,
  type DetectRuntime,
  describePolicy,
  type EdgeRuntime,
  type FrameRecord,
  locateFfmpeg,
  percentile,
  redactUrl,
  SourceError,
  SourceErrorCode,
  summarizeDetections,
} from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import {
  type DetectConfig,
  EdgeConfigSchema,
  type FusionConfig,
  GatewayConfigSchema,
  type PayloadConfig,
  type PolicyConfig,
  type PrivacyConfig,
} from '@squeezegate/shared';
import type { Logger } from 'pino';

/** The one agent of the video demo, as the brief of issue 12 names it. */
const DEVICE_ID = 'cam-1';

export interface VideoDemoOptions {
  /** A video file, or a camera URL (`rtsp://`, `http://`, `/dev/videoN`): the latter runs until `signal`. */
  source: string;
  task: 'classify' | 'detect';
  modelsDir: string;
  /** Frames analysed per second of video. */
  fps: number;
  /** Track and scene events as JSON lines. */
  events?: string | undefined;
  gate?: boolean;
  track?: boolean;
  /** ffmpeg binary (`--ffmpeg` / `SQUEEZEGATE_FFMPEG`); default: the packaged one, else PATH. */
  ffmpeg?: string | undefined;
  policy?: PolicyConfig;
  payload?: PayloadConfig;
  fusion?: FusionConfig;
  detect?: Partial<DetectConfig>;
  privacy?: Partial<PrivacyConfig>;
  deadlineMs?: number;
  logger: Logger;
  /** Once the agent is up: the frames a file should give at `fps` (null for a live camera). */
  onStart?: (expectedFrames: number | null) => void;
  onRecord?: (record: FrameRecord | DetectRecord) => void;
  signal?: AbortSignal;
}

/** A video file's own facts, from ffmpeg's banner and a stream copy (no decoding). */
export interface ClipFacts {
  bytes: number;
  durationS: number;
  /** Frames in the file's video stream, at its own rate. */
  frames: number | null;
}

/** The video summary; every figure comes from the run (the agent's camera counts, its records, its link). */
export interface VideoDemoSummary {
  /** The clip's file name, or the camera URL without credentials. */
  name: string;
  task: 'classify' | 'detect';
  deviceId: string;
  camera: string;
  edgeModel: string;
  cloudModel: string;
  /** classify: the policy in words; detect: what an uncertain object sends. */
  policy: string;
  gate: boolean;
  track: boolean;
  fps: number;
  /** The file's facts; null for a live camera. */
  clip: ClipFacts | null;
  /** Seconds of video the run covered: decoded frames / fps. */
  analysedS: number;
  /** Frames ffmpeg delivered at `fps`: analysed + dropped. */
  decodedFrames: number;
  /** Frames the agent decided: inferred + reused + failed. */
  analysedFrames: number;
  inferredFrames: number;
  inferredFraction: number;
  /** Frames that took an earlier frame's result (scene gate; classify also: the scene's label already asked). */
  reusedFrames: number;
  /** Frames a newer one replaced before the model took them (live cameras). */
  droppedFrames: number;
  failedFrames: number;
  /** Payloads that left: object crops, and whole frames (classify: every offload is a frame). */
  offloads: { total: number; crops: number; frames: number };
  /** Every byte the agent wrote to its socket (upgrade, hello, stats, framing, payloads). */
  bytesUp: number;
  /** The file's bytes for the analysed duration: streaming the camera to the cloud. Null for a live camera. */
  streamBytes: number | null;
  bytesUpOverStream: number | null;
  events: { new: number; update: number; end: number; scene: number };
  restarts: number;
  gapMs: number;
  /** Capture to final result, per analysed frame. */
  latencyMs: { p50: number | null; p95: number | null };
  elapsedMs: number;
}

export interface VideoDemoResult {
  summary: VideoDemoSummary;
  records: (FrameRecord | DetectRecord)[];
}

/** The container's duration from ffmpeg's banner (`Duration: 00:00:30.16`), seconds. */
export function parseDuration(banner: string): number | null {
  const m = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(banner);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

/** Size, duration and frame count of a video file: ffmpeg copies its video stream to nowhere. */
export async function probeClip(file: string, ffmpegPath: string): Promise<ClipFacts> {
  const args = ['-hide_banner', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'];
  // ffmpeg exits non-zero on some containers' trailing junk; the banner and counts are still there.
  const log = await new Promise<string>((resolve) => {
    execFile(ffmpegPath, args, { timeout: 60_000, maxBuffer: 16 << 20 }, (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });
  const durationS = parseDuration(log);
  if (durationS === null || durationS <= 0)
    throw new SourceError(`ffmpeg gives no duration for ${file}: is it a video?`, {
      code: SourceErrorCode.SOURCE_UNREADABLE,
    });
  const frames = [...log.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1];
  return { bytes: (await stat(file)).size, durationS, frames: frames === undefined ? null : Number(frames) };
}

/**
 * One camera end to end: a gateway on loopback, one agent (`cam-1`) reading the source through
 * ffmpeg at `fps`, with the scene gate, tracking (detect) and events as configured; then the
 * video summary. A file ends at its end; a live camera runs until `signal` aborts.
 */
export async function runVideoDemo(options: VideoDemoOptions): Promise<VideoDemoResult> {
  const { modelsDir, logger, task, fps, gate = true, track = true } = options;
  const started = performance.now();
  const kind = await classifySource(options.source);
  const ffmpeg = await locateFfmpeg({ explicit: options.ffmpeg });
  const clip = kind.kind === 'file' ? await probeClip(kind.path, ffmpeg.path) : null;
  const token = randomBytes(18).toString('base64url');
  const gatewayConfig = GatewayConfigSchema.parse({
    host: '127.0.0.1',
    port: 0,
    modelsDir,
    devices: [{ id: DEVICE_ID, token }],
  });
  await using gateway = await createGateway({ config: gatewayConfig, logger });
  const config = EdgeConfigSchema.parse({
    deviceId: DEVICE_ID,
    token,
    gatewayUrl: gateway.edgeUrl,
    modelsDir,
    task,
    policy: options.policy,
    payload: options.payload,
    fusion: options.fusion,
    detect: options.detect,
    privacy: options.privacy,
    deadlineMs: options.deadlineMs ?? 2000,
    source: { url: options.source, fps },
    video: {
      ffmpeg: ffmpeg.path,
      gate: { enabled: gate },
      track: { enabled: track },
      ...(options.events ? { events: options.events } : {}),
    },
  });
  const records: (FrameRecord | DetectRecord)[] = [];
  const onRecord = (r: FrameRecord | DetectRecord) => {
    records.push(r);
    options.onRecord?.(r);
  };
  const events = { new: 0, update: 0, end: 0, scene: 0 };
  const onEvent = (e: CameraEvent) => {
    events[e.type]++;
  };
  const common = { config, logger, onEvent };
  const runtime: EdgeRuntime | DetectRuntime =
    task === 'detect'
      ? await createDetectRuntime({ ...common, onRecord })
      : await createEdgeRuntime({ ...common, onRecord });
  try {
    options.onStart?.(clip ? Math.round(clip.durationS * fps) : null);
    await runtime.run(options.signal ? { signal: options.signal } : {});
  } finally {
    await runtime.close();
  }
  const stats = runtime.cameraStats()[0]!;
  const bytesUp = runtime.link?.stats().wireBytes ?? 0;
  const analysedS = stats.decoded / fps;
  const streamBytes = clip ? Math.round(clip.bytes * Math.min(1, analysedS / clip.durationS)) : null;
  const decided = records.filter((r) => r.decision.kind !== 'dropped');
  const latencies = decided.map((r) => r.timings.totalMs);
  return {
    summary: {
      name: kind.kind === 'file' ? path.basename(kind.path) : redactUrl(options.source),
      task,
      deviceId: DEVICE_ID,
      camera: stats.id,
      edgeModel: task === 'detect' ? config.detect.model : config.model,
      cloudModel: gatewayConfig.cloudModel,
      policy:
        task === 'detect'
          ? `uncertain objects (score ${config.detect.uncertain}–${config.detect.confident}) send a crop q${config.payload.quality}`
          : describePolicy(config.policy, config.payload),
      gate,
      track: task === 'detect' && track,
      fps,
      clip,
      analysedS,
      decodedFrames: stats.decoded,
      analysedFrames: stats.analysed,
      inferredFrames: stats.inferred,
      inferredFraction: stats.analysed > 0 ? stats.inferred / stats.analysed : 0,
      reusedFrames: stats.reused,
      droppedFrames: stats.dropped,
      failedFrames: records.filter((r) => r.decision.kind === 'failed').length,
      offloads: offloadsOf(task, records),
      bytesUp,
      streamBytes,
      bytesUpOverStream: streamBytes ? bytesUp / streamBytes : null,
      events,
      restarts: stats.restarts,
      gapMs: Math.round(stats.gapMs),
      latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
      elapsedMs: Math.round(performance.now() - started),
    },
    records,
  };
}

/** Payloads that left: a detect frame's object crops and whole frames; a classify frame's one payload. */
function offloadsOf(
  task: 'classify' | 'detect',
  records: readonly (FrameRecord | DetectRecord)[],
): VideoDemoSummary['offloads'] {
  if (task === 'detect') {
    const s = summarizeDetections(records as DetectRecord[]);
    return { total: s.crops + s.framesSent, crops: s.crops, frames: s.framesSent };
  }
  const frames = records.filter((r) => r.decision.kind === 'offload' && r.bytesSent > 0).length;
  return { total: frames, crops: 0, frames };
}
