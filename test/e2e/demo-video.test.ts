// `npm start -- --source <clip> --task detect`, as a user runs it: the demo's gateway and one
// agent on the parking-lot clip, its video summary checked against the run's own records and events.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CameraEvent, DetectRecord } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/cli.ts';
import { datasetDir, haveDetectionModels, repoRoot } from '../support/env.ts';

const DEMO = path.join(repoRoot, 'packages/demo/dist/main.js');
const CAR = path.resolve(path.dirname(datasetDir), 'video-sample', 'car-detection.mp4');
const haveClip = existsSync(CAR);
if (!haveClip && process.env.CI) throw new Error(`the video demo test needs ${CAR}`);

const lines = async <T>(file: string): Promise<T[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe.skipIf(!haveDetectionModels || !haveClip)('npm start on a video', () => {
  it('detect on the parking lot: a video summary that the records, the events and the clip bear out', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-demo-video-'));
    const json = path.join(dir, 'summary.json');
    const recordsFile = path.join(dir, 'records.jsonl');
    const eventsFile = path.join(dir, 'events.jsonl');
    const { code, stdout, stderr } = await runNode([
      DEMO,
      ...['--source', CAR, '--task', 'detect'],
      ...['--json', json, '--records', recordsFile, '--events', eventsFile],
    ]);
    expect(code, stderr).toBe(0);
    const s = JSON.parse(await readFile(json, 'utf8'));
    for (const key of [
      'name',
      'clip',
      'analysedS',
      'decodedFrames',
      'analysedFrames',
      'inferredFrames',
      'inferredFraction',
      'reusedFrames',
      'droppedFrames',
      'failedFrames',
      'offloads',
      'bytesUp',
      'streamBytes',
      'bytesUpOverStream',
      'events',
      'latencyMs',
    ]) {
      expect(s, key).toHaveProperty(key);
    }
    expect(s).toMatchObject({ name: 'car-detection.mp4', task: 'detect', deviceId: 'cam-1', fps: 5 });

    // The clip is 30.2 s (README of video-sample): 151 frames at 5 fps, each decided once.
    expect(s.clip.bytes).toBe(2_811_553);
    expect(s.clip.durationS).toBeCloseTo(30.2, 0);
    expect(s.analysedFrames).toBeGreaterThanOrEqual(150);
    expect(s.analysedFrames).toBeLessThanOrEqual(152);
    expect(s.decodedFrames).toBe(s.analysedFrames + s.droppedFrames);
    expect(s.analysedFrames).toBe(s.inferredFrames + s.reusedFrames + s.failedFrames);
    expect(s.failedFrames).toBe(0);
    // The lot is still most of the time: the gate spares the model some frames.
    expect(s.inferredFrames).toBeGreaterThan(0);
    expect(s.inferredFrames).toBeLessThan(s.analysedFrames);
    expect(s.inferredFraction).toBeCloseTo(s.inferredFrames / s.analysedFrames, 9);

    // Streaming the camera: the file's bytes for the duration analysed, at most the whole file.
    expect(s.analysedS).toBeCloseTo(s.decodedFrames / 5, 9);
    expect(s.streamBytes).toBe(Math.round(s.clip.bytes * Math.min(1, s.analysedS / s.clip.durationS)));
    expect(s.bytesUp).toBeGreaterThan(0);
    expect(s.bytesUp).toBeLessThan(s.streamBytes);
    expect(s.bytesUpOverStream).toBeCloseTo(s.bytesUp / s.streamBytes, 9);

    // The figures are the records' own: one per decoded frame, counted by decision.
    const records = await lines<DetectRecord>(recordsFile);
    expect(records).toHaveLength(s.decodedFrames);
    const kinds = (k: string) => records.filter((r) => r.decision.kind === k).length;
    expect(kinds('local') + kinds('offload')).toBe(s.inferredFrames);
    expect(kinds('reused')).toBe(s.reusedFrames);
    expect(kinds('dropped')).toBe(s.droppedFrames);
    const sent = records.flatMap((r) => r.offloads).filter((o) => o.bytes > 0);
    expect(s.offloads.crops).toBe(sent.filter((o) => o.kind === 'object').length);
    expect(s.offloads.frames).toBe(sent.filter((o) => o.kind === 'frame').length);
    expect(s.offloads.total).toBe(sent.length);
    // The wire carries every payload's envelope, plus the upgrade, hello, stats and framing.
    expect(s.bytesUp).toBeGreaterThan(records.reduce((n, r) => n + r.bytesSent, 0));

    // Events: as written to the file; every track that began ends with the clip.
    const events = await lines<CameraEvent>(eventsFile);
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect(s.events).toEqual({ new: count('new'), update: count('update'), end: count('end'), scene: 0 });
    expect(s.events.new).toBeGreaterThan(0);
    expect(s.events.end).toBe(s.events.new);

    expect(s.latencyMs.p95).toBeGreaterThanOrEqual(s.latencyMs.p50);
    // The printed table shows the same run.
    expect(stdout).toContain('squeezegate video');
    expect(stdout).toContain(`${s.analysedFrames} analysed`);
    expect(stdout).toMatch(new RegExp(`through the model\\s+${s.inferredFrames} \\(`));
    expect(stdout).toMatch(
      new RegExp(`events\\s+${s.events.new} new, ${s.events.update} update, ${s.events.end} end`),
    );
  });
});
