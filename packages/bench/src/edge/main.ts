#!/usr/bin/env node
// `npm run bench:edge`: the edge agent's CPU per frame against the floor, the bare loop of the same
// libraries, model and threads over the same frames; images and video, and the agent's memory
// with one and with several cameras. See EDGE_BENCH_HELP and docs/benchmarks.md.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { locateFfmpeg, openDirectorySource, SourceError, scaledSize } from '@squeezegate/edge';
import { EdgeConfigSchema, ModelLoadError, resolveModel } from '@squeezegate/shared';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish } from '../publish.ts';
import { GatewayStartError, newDevices, startGatewayProcess } from '../video/gateway-process.ts';
import { AgentRunError, runAgent } from './agent-run.ts';
import { edgeBenchConfigFromCli } from './config.ts';
import { imageFloor, videoFloor, videoSizeFrom } from './floor.ts';
import { EDGE_GOAL, type EdgeBenchResults, edgeTable } from './report.ts';

const root = path.resolve(import.meta.dirname, '../../../..');
const cli = await edgeBenchConfigFromCli(process.argv.slice(2), process.env, { root });
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
const agentMain = path.join(root, 'packages/edge/dist/main.js');
const rel = (p: string) => path.relative(root, path.resolve(p)) || '.';
const round = (v: number, digits = 2) => Number(v.toFixed(digits));

let failure: { code: number; message: string } | null = null;
const closers: (() => Promise<void>)[] = [];
try {
  const ffmpeg = await locateFfmpeg({ explicit: config.ffmpeg });
  log(`ffmpeg: ${ffmpeg.versionLine} (${ffmpeg.origin}, ${ffmpeg.path})`);
  // The agent's model, as its config defaults it.
  const modelId = EdgeConfigSchema.parse({
    deviceId: 'bench',
    token: 'bench-token',
    gatewayUrl: 'ws://127.0.0.1:1/v1/edge',
    modelsDir: config.modelsDir,
    source: { dir: config.dataset },
  }).model;
  const { spec, path: modelPath } = await resolveModel(modelId, config.modelsDir);
  const model = { path: modelPath, inputName: spec.input.name, preprocess: spec.preprocess };
  const limit = config.warmup + config.frames;
  const files = (await openDirectorySource({ dir: config.dataset, limit })).frames.map((f) => f.file);
  if (files.length < limit)
    throw new SourceError(`${config.dataset} has ${files.length} images, the bench needs ${limit}`);

  const devices = newDevices([
    'bench-edge-1',
    'bench-edge-2',
    'bench-edge-3',
    'bench-edge-4',
    'bench-edge-5',
  ]);
  const gateway = await startGatewayProcess({
    root,
    modelsDir: config.modelsDir,
    devices,
    env: process.env,
    nodePath: process.execPath,
  });
  closers.push(() => gateway.close());
  log(`gateway on ${gateway.edgeUrl}, in its own process`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-edge-'));
  closers.push(() => rm(tmp, { recursive: true, force: true }));
  const agent = (device: number, args: string[], stopAfter?: number) =>
    runAgent({
      node: process.execPath,
      main: agentMain,
      cwd: root,
      env: { ...process.env, SQUEEZEGATE_TOKEN: devices[device]!.token },
      warmup: config.warmup,
      ...(stopAfter === undefined ? {} : { stopAfter }),
      args: [
        ...['--gateway', gateway.edgeUrl, '--device-id', devices[device]!.id],
        ...['--models-dir', config.modelsDir, '--ffmpeg', ffmpeg.path, '--log-level', 'warn'],
        ...args,
      ],
    });
  const neverOff = ['--policy', 'never', '--faces', 'off'];

  // Images: the floor before and after the agent, so that a drift in the machine's load hits both.
  const images = ['--source', config.dataset, '--limit', String(limit)];
  const floorA = await imageFloor({ model, files, warmup: config.warmup });
  log(`images, floor: ${floorA.msPerFrame.toFixed(2)} ms/frame`);
  const never = await agent(0, [...images, ...neverOff]);
  log(`images, agent --policy never --faces off: ${never.msPerFrame.toFixed(2)} ms/frame`);
  const floorB = await imageFloor({ model, files, warmup: config.warmup });
  log(`images, floor again: ${floorB.msPerFrame.toFixed(2)} ms/frame`);
  const defaults = await agent(1, images);
  log(`images, agent with defaults: ${defaults.msPerFrame.toFixed(2)} ms/frame`);
  const floorMs = (floorA.msPerFrame + floorB.msPerFrame) / 2;

  // Video: every frame through the model (gate off), at the agent's rate and size.
  const probe = await new Promise<string>((resolve) =>
    execFile(ffmpeg.path, ['-hide_banner', '-i', config.video], (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    ),
  );
  const size = videoSizeFrom(probe);
  if (!size) throw new SourceError(`ffmpeg finds no video stream in ${config.video}`);
  const frame = scaledSize(size.width, size.height, { shortSide: spec.preprocess.resizeShortSide });
  const videoArgs = ['--source', path.resolve(config.video), '--fps', String(config.fps), '--gate', 'off'];
  const vFloor = await videoFloor({
    model,
    ffmpeg: ffmpeg.path,
    file: config.video,
    fps: config.fps,
    frame,
    warmup: config.warmup,
  });
  log(`video, floor: ${vFloor.msPerFrame.toFixed(2)} ms/frame over ${vFloor.frames} frames`);
  const vAgent = await agent(2, [...videoArgs, ...neverOff]);
  log(`video, agent: ${vAgent.msPerFrame.toFixed(2)} ms/frame over ${vAgent.frames} frames`);

  // Memory with several cameras: the same clip on each, stopped after as many records as one camera gave.
  const camerasFile = path.join(tmp, 'cameras.json');
  await writeFile(
    camerasFile,
    JSON.stringify({
      cameras: Array.from({ length: config.cameras }, (_, i) => ({
        id: `cam-${i + 1}`,
        source: { url: path.resolve(config.video), fps: config.fps },
      })),
      video: { gate: { enabled: false } },
    }),
  );
  const many = await agent(3, ['--config', camerasFile, ...neverOff], vAgent.records);
  log(`video, ${config.cameras} cameras: peak RSS ${many.rssMb.toFixed(0)} MiB`);

  const results: EdgeBenchResults = {
    machine,
    command: `npm run bench:edge -- ${process.argv.slice(2).join(' ')}`.trim(),
    settings: {
      dataset: rel(config.dataset),
      video: rel(config.video),
      frames: config.frames,
      warmup: config.warmup,
      fps: config.fps,
      cameras: config.cameras,
      model: spec.id,
      ffmpeg: `ffmpeg ${ffmpeg.version} (${ffmpeg.origin})`,
    },
    floorMsPerFrame: round(floorMs),
    agentMsPerFrame: round(never.msPerFrame),
    overFloor: round(never.msPerFrame / floorMs, 3),
    defaultsMsPerFrame: round(defaults.msPerFrame),
    rssMb: round(never.rssMb, 1),
    videoFrames: { floor: vFloor.frames, agent: vAgent.frames },
    videoFloorMsPerFrame: round(vFloor.msPerFrame),
    videoAgentMsPerFrame: round(vAgent.msPerFrame),
    videoOverFloor: round(vAgent.msPerFrame / vFloor.msPerFrame, 3),
    rssOneCameraMb: round(vAgent.rssMb, 1),
    rssCamerasMb: round(many.rssMb, 1),
    runtimeS: round((performance.now() - started) / 1000, 1),
  };
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const table = edgeTable(results);
  await mkdir(config.out, { recursive: true });
  await writeFile(path.join(config.out, 'results.json'), json);
  await writeFile(path.join(config.out, 'table.md'), table);
  if (config.json) await writeFile(config.json, json);
  if (config.doc)
    await publish({
      bench: 'edge',
      section: table,
      headline: [],
      date: machine.date.slice(0, 10),
      doc: config.doc,
    });
  process.stdout.write(
    `${JSON.stringify({ ...results, machine: undefined, settings: undefined }, null, 2)}\n`,
  );
  if (results.overFloor > EDGE_GOAL)
    log(
      `goal missed: overFloor ${results.overFloor} > ${EDGE_GOAL} (by ${(results.overFloor / EDGE_GOAL).toFixed(3)}×)`,
    );
} catch (err) {
  failure =
    err instanceof ModelLoadError
      ? { code: 3, message: err.message }
      : err instanceof SourceError
        ? { code: 4, message: err.message }
        : err instanceof GatewayStartError || err instanceof AgentRunError
          ? { code: 1, message: err.message }
          : { code: 1, message: `bench failed: ${(err as Error).stack ?? String(err)}` };
} finally {
  for (const close of closers.reverse()) await close().catch((err: unknown) => log(`close failed: ${err}`));
}
if (failure) {
  process.stderr.write(`bench:edge: ${failure.message}\n`);
  process.exit(failure.code);
}
