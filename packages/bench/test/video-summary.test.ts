import { describe, expect, it } from 'vitest';
import type { FrameOutcome } from '../src/video/agreement.ts';
import { childrenCpuMs } from '../src/video/cpu.ts';
import {
  bytesPerSecond,
  type ClipFacts,
  GOALS,
  goalChecks,
  type RunMeasure,
  streamBytes,
  videoRow,
  videoTotals,
} from '../src/video/summary.ts';

const frame = (seq: number, kind: FrameOutcome['kind'], bytesSent = 0, index = 1): FrameOutcome => ({
  seq,
  kind,
  bytesSent,
  payloads: bytesSent > 0 ? 1 : 0,
  answer: { task: 'classify', index },
});

const measure = (outcomes: FrameOutcome[], over: Partial<RunMeasure> = {}): RunMeasure => ({
  outcomes,
  events: 0,
  cpuMs: outcomes.length * 10,
  ffmpegCpuMs: outcomes.length,
  wireBytes: null,
  wallS: 1,
  ...over,
});

// 4 s at 12.5 fps.
const clip: ClipFacts = { name: 'lot', file: '/v/lot.mp4', bytes: 1_000_000, durationS: 4, frames: 50 };

describe('streamBytes', () => {
  it('prorates the file to the analysed duration, never beyond the file', () => {
    expect(streamBytes(1_000_000, 2, 4)).toBe(500_000);
    expect(streamBytes(1_000_000, 4.2, 4)).toBe(1_000_000);
    expect(streamBytes(1_000_000, 1, 0)).toBe(1_000_000);
  });
});

describe('bytesPerSecond', () => {
  it('puts frame seq at seq / fps seconds', () => {
    const out = bytesPerSecond(
      [frame(0, 'offload', 100), frame(4, 'offload', 50), frame(5, 'offload', 7)],
      5,
      2,
    );
    expect(out).toEqual([150, 7]);
  });
  it('keeps a frame past the last whole second in the last bucket', () => {
    expect(bytesPerSecond([frame(11, 'offload', 9)], 5, 2.2)).toEqual([0, 0, 9]);
    expect(bytesPerSecond([frame(10, 'offload', 9)], 5, 2)).toEqual([0, 9]);
  });
});

describe('videoRow', () => {
  // 10 frames at 5 fps: 2 s of a 4 s clip.
  const reference = measure(
    Array.from({ length: 10 }, (_, i) => frame(i, i < 4 ? 'offload' : 'local', i < 4 ? 1000 : 0)),
  );
  const gated = measure([
    frame(0, 'offload', 1000),
    ...Array.from({ length: 5 }, (_, i) => frame(i + 1, 'reused')),
    frame(6, 'local'),
    frame(7, 'dropped'),
    frame(8, 'reused', 0, 2),
    frame(9, 'failed'),
  ]);
  const row = videoRow({ clip, task: 'classify', fps: 5, gated, reference, jpegBytes: 80_000 });

  it('counts frames by what became of them', () => {
    expect(row).toMatchObject({
      name: 'lot',
      task: 'classify',
      durationS: 2,
      decodedFrames: 25,
      analysedFrames: 10,
      inferredFrames: 2,
      reusedFrames: 6,
      droppedFrames: 1,
      failedFrames: 1,
      offloads: 1,
      bytesUp: 1000,
      streamBytes: 500_000,
      jpegBytes: 80_000,
      edgeCpuMsPerFrame: 10,
      ffmpegCpuMsPerFrame: 1,
    });
  });

  it('scores agreement against the reference: frame 8 kept another label', () => {
    expect(row.agreement).toBeCloseTo(0.9, 10);
  });

  it('keeps the reference figures beside the gated ones', () => {
    expect(row.reference).toEqual({ inferredFrames: 10, offloads: 4, bytesUp: 4000, edgeCpuMsPerFrame: 10 });
    expect(row.bytesUpPerS).toEqual([1000, 0]);
  });
});

const synthetic = (
  name: string,
  task: 'classify' | 'detect',
  a: { analysed: number; inferred: number; up: number; stream: number; agreement: number },
) => ({
  ...videoRow({
    clip: { name, file: `/v/${name}.mp4`, bytes: a.stream, durationS: a.analysed / 5, frames: null },
    task,
    fps: 5,
    gated: measure(
      Array.from({ length: a.analysed }, (_, i) => frame(i, i < a.inferred ? 'local' : 'reused')),
    ),
    reference: measure([]),
    jpegBytes: a.stream * 2,
  }),
  bytesUp: a.up,
  agreement: a.agreement,
});

describe('videoTotals and goals', () => {
  const rows = [
    synthetic('a', 'classify', { analysed: 100, inferred: 50, up: 1000, stream: 100_000, agreement: 1 }),
    synthetic('b', 'classify', { analysed: 300, inferred: 250, up: 9000, stream: 100_000, agreement: 0.96 }),
    synthetic('a', 'detect', { analysed: 100, inferred: 20, up: 2000, stream: 100_000, agreement: 0.98 }),
  ];
  const totals = videoTotals(rows);

  it('sums bytes and frames, and weights agreement by analysed frames', () => {
    expect(totals.bytesUp).toBe(12_000);
    expect(totals.streamBytes).toBe(300_000);
    expect(totals.bytesUpOverStream).toBeCloseTo(0.04, 10);
    expect(totals.inferredFraction).toBeCloseTo(320 / 500, 10);
    expect(totals.agreement).toBeCloseTo((100 * 1 + 300 * 0.96 + 100 * 0.98) / 500, 10);
    expect(totals.byTask.classify?.inferredFraction).toBeCloseTo(300 / 400, 10);
    expect(totals.byTask.detect?.bytesUpOverStream).toBeCloseTo(0.02, 10);
  });

  it('checks each clip and task, and the model share per task over the set', () => {
    const checks = goalChecks(rows, totals);
    expect(checks.filter((c) => !c.met).map((c) => c.what)).toEqual([
      'b, classify: bytes up / stream',
      'b, classify: agreement',
      'classify, all clips: model on analysed frames',
    ]);
    expect(checks.find((c) => c.what === 'a, detect: bytes up / stream')).toMatchObject({
      value: 0.02,
      goal: GOALS.bytesUpOverStream,
      met: true,
    });
  });
});

describe('childrenCpuMs', () => {
  it('reads cutime and cstime after a command name with spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const stat = '4242 (node (bench) x) S 1 2 3 4 5 6 7 8 9 10 120 30 250 50 20 0 1';
    expect(childrenCpuMs(stat, 100)).toBe(3000);
  });
  it('says nothing when the fields are missing', () => {
    expect(childrenCpuMs('4242 (node) S 1 2', 100)).toBeNull();
  });
});
