#!/usr/bin/env node
// `npm run bench:video`: the cascade on real footage, as a camera agent runs it (scene gate and
// tracker on) against the same cascade on every analysed frame (the reference): bytes up against
// streaming the file, frames through the model, agreement, edge CPU and events.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { locateFfmpeg, SourceError } from '@squeezegate/edge';
import {
  type Classifier,
  createOnnxClassifier,
  type Detector,
  EdgeConfigSchema,
  GatewayConfigSchema,
  ModelLoadError,
  openDetector,
  resolveModel,
} from '@squeezegate/shared';
import { pino } from 'pino';
import { describeMachine, machineInfo } from '../machine.ts';
import { spliceSection } from '../publish.ts';
import { runCascade } from './cascade-run.ts';
import { ClipError, clipFacts, clipFiles, jpegBaseline } from './clips.ts';
import { tasksOf, VIDEO_SECTION, videoBenchConfigFromCli } from './config.ts';
import { GatewayStartError, newDevices, startGatewayProcess } from './gateway-process.ts';
import { goalLine, videoChartSvg, videoTable } from './report.ts';
import { analysedScale } from './scale.ts';
import { goalChecks, type VideoBenchResults, type VideoRow, videoRow, videoTotals } from './summary.ts';

const root = path.resolve(import.meta.dirname, '../../../..');
const cli = await videoBenchConfigFromCli(process.argv.slice(2), process.env, { root });
if (cli.kind === 'exit') {
  process.stdout.write(cli.stdout);
  process.stderr.write(cli.stderr);
  process.exit(cli.code);
}
const config = cli.config;
const log = (line: string) => process.stderr.write(`${line}\n`);

const machine = machineInfo();
log(`machine: ${describeMachine(machine)}`);
const started = performance.now();
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
const logger = pino({ level: 'warn', redact: ['token', '*.token'] }, pino.destination(2));
const abort = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort());

const tasks = tasksOf(config.task);
// The agent's defaults, as a deployed agent has them.
const defaults = EdgeConfigSchema.parse({
  deviceId: 'bench',
  token: 'bench-token',
  gatewayUrl: 'ws://127.0.0.1:1/v1/edge',
  modelsDir: config.modelsDir,
  source: { url: 'clip.mp4' },
});
const cloudModel = GatewayConfigSchema.parse({ modelsDir: config.modelsDir, devices: [] }).cloudModel;
const closers: (() => Promise<void>)[] = [];
let failure: { code: number; message: string } | null = null;
try {
  const ffmpeg = await locateFfmpeg({ explicit: config.ffmpeg });
  log(`ffmpeg: ${ffmpeg.versionLine} (${ffmpeg.origin}, ${ffmpeg.path})`);
  const clips = [];
  for (const file of await clipFiles(config.source)) clips.push(await clipFacts(file, ffmpeg));
  log(`${clips.length} clip(s): ${clips.map((c) => `${c.name} (${c.durationS.toFixed(1)} s)`).join(', ')}`);

  let classifier: Classifier | undefined;
  let detector: Detector | undefined;
  if (tasks.includes('classify')) {
    const c = await createOnnxClassifier(await resolveModel(defaults.model, config.modelsDir));
    classifier = c;
    closers.push(() => c.close());
  }
  if (tasks.includes('detect')) {
    const d = await openDetector({ id: defaults.detect.model, modelsDir: config.modelsDir });
    detector = d;
    closers.push(() => d.close());
  }

  const runs = clips.flatMap((c) =>
    tasks.flatMap((t) => [`${t}-ref`, `${t}-gated`].map((m) => `${c.name}-${m}`)),
  );
  const devices = newDevices(runs.map((_, i) => `bench-video-${i + 1}`));
  const gateway = await startGatewayProcess({
    root,
    modelsDir: config.modelsDir,
    devices,
    env: process.env,
    nodePath: process.execPath,
  });
  closers.push(() => gateway.close());
  log(`gateway (${cloudModel}) on ${gateway.edgeUrl}, in its own process`);

  const rows: VideoRow[] = [];
  const jpegCache = new Map<string, number>();
  let device = 0;
  for (const clip of clips) {
    for (const task of tasks) {
      if (abort.signal.aborted) throw new Error('interrupted');
      const run = (temporal: boolean) =>
        runCascade({
          file: clip.file,
          task,
          fps: config.fps,
          temporal,
          pace: temporal ? config.pace : 'asap',
          limit: config.limit,
          gatewayUrl: gateway.edgeUrl,
          device: devices[device++]!,
          modelsDir: config.modelsDir,
          ffmpeg: ffmpeg.path,
          logger,
          classifier,
          detector,
          signal: abort.signal,
        });
      const t0 = performance.now();
      const reference = await run(false);
      const gated = await run(true);
      const scale = analysedScale(task, { classifier, detector });
      const key = `${clip.file} ${JSON.stringify(scale)}`;
      let jpegBytes = jpegCache.get(key);
      if (jpegBytes === undefined) {
        const jpeg = await jpegBaseline({
          file: clip.file,
          fps: config.fps,
          scale,
          limit: config.limit,
          ffmpeg,
          logger,
        });
        jpegBytes = jpeg.bytes;
        jpegCache.set(key, jpegBytes);
      }
      const row = videoRow({ clip, task, fps: config.fps, gated, reference, jpegBytes });
      rows.push(row);
      log(
        `${clip.name}, ${task}: ${row.analysedFrames} analysed, ${row.inferredFrames} through the model, ${row.offloads} offloads, ${row.bytesUp} B up of ${row.streamBytes} streamed, agreement ${row.agreement?.toFixed(3) ?? '—'} (${seconds(t0)} s)`,
      );
    }
  }

  const command = `npm run bench:video -- ${process.argv.slice(2).join(' ')}`.trim();
  const totals = videoTotals(rows);
  const results: VideoBenchResults = {
    machine,
    command,
    settings: {
      source: path.relative(root, path.resolve(config.source)) || '.',
      fps: config.fps,
      pace: config.pace,
      limit: config.limit ?? null,
      tasks,
      edgeModel: defaults.model,
      detector: defaults.detect.model,
      cloudModel,
      faces: defaults.privacy.faces,
      ffmpeg: ffmpeg.versionLine,
    },
    runtimeS: (performance.now() - started) / 1000,
    videos: rows,
    totals,
  };
  const table = videoTable(results);
  const round6 = (_: string, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v;
  const json = `${JSON.stringify(results, round6, 2)}\n`;
  await mkdir(config.out, { recursive: true });
  await writeFile(path.join(config.out, 'results.json'), json);
  await writeFile(path.join(config.out, 'table.md'), table);
  await writeFile(path.join(config.out, 'chart.svg'), await videoChartSvg(results));
  if (config.json) await writeFile(config.json, json);
  if (config.doc) {
    // The chart link in table.md is relative to docs/bench/video; the docs file needs its own.
    const chart = path.relative(path.dirname(path.resolve(config.doc)), path.join(config.out, 'chart.svg'));
    const section = table.replace('](chart.svg)', `](${chart.split(path.sep).join('/')})`);
    await writeFile(
      config.doc,
      spliceSection(await readFile(config.doc, 'utf8'), section, VIDEO_SECTION, config.doc),
    );
  }
  process.stdout.write(`${table}\n`);
  for (const g of goalChecks(rows, totals).filter((c) => !c.met)) log(`goal missed: ${goalLine(g).slice(2)}`);
  log(`total ${seconds(started)} s`);
} catch (err) {
  failure =
    err instanceof ModelLoadError
      ? { code: 3, message: err.message }
      : err instanceof SourceError || err instanceof ClipError
        ? { code: 4, message: err.message }
        : err instanceof GatewayStartError
          ? { code: 1, message: err.message }
          : { code: 1, message: `bench failed: ${(err as Error).stack ?? String(err)}` };
} finally {
  // The gateway's process first: nothing may outlive the bench.
  for (const close of closers.reverse()) await close().catch((err: unknown) => log(`close failed: ${err}`));
  logger.flush();
}
if (failure) {
  process.stderr.write(`bench:video: ${failure.message}\n`);
  process.exit(failure.code);
}
