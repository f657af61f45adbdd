// The floor: what the same libraries, model and thread settings cost bare, over the same frames as
// the agent. Images: read the file, sharp decodes and resizes (short side to 256), the centre crop
// is cut while the float tensor is built, onnxruntime runs SqueezeNet. Video: ffmpeg decodes to raw
// RGB at the agent's rate and size, then the same crop, tensor and run. Buffers and the tensor are
// allocated once. CPU is this process's and its children's (ffmpeg), between the warm-up and the end.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Preprocess } from '@squeezegate/shared';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { treeCpuMs } from './proc-cpu.ts';

export interface FloorModel {
  path: string;
  inputName: string;
  preprocess: Preprocess;
}

export interface FloorResult {
  frames: number;
  cpuMs: number;
  msPerFrame: number;
}

/**
 * Cuts the centre `size`² of an interleaved RGB `width`×`height` image into planar float32 `out`,
 * normalised as the model wants: `(px * scale - mean[c]) / std[c]`, channels in the model's order.
 */
export function cropToTensor(
  rgb: Uint8Array,
  image: { width: number; height: number },
  preprocess: Preprocess,
  out: Float32Array,
): void {
  const size = preprocess.centerCrop;
  const left = (image.width - size) >> 1;
  const top = (image.height - size) >> 1;
  const plane = size * size;
  const src = preprocess.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const s = src[c]!;
    const k = preprocess.scale / preprocess.std[c]!;
    const b = preprocess.mean[c]! / preprocess.std[c]!;
    for (let y = 0; y < size; y++) {
      let i = ((top + y) * image.width + left) * 3 + s;
      const o = c * plane + y * size;
      for (let x = 0; x < size; x++, i += 3) out[o + x] = rgb[i]! * k - b;
    }
  }
}

async function openSession(model: FloorModel) {
  const session = await ort.InferenceSession.create(model.path, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const size = model.preprocess.centerCrop;
  const data = new Float32Array(3 * size * size);
  const tensor = new ort.Tensor('float32', data, [1, 3, size, size]);
  const feeds = { [model.inputName]: tensor };
  return { session, data, run: () => session.run(feeds) };
}

const cpuNow = () => treeCpuMs(process.pid) ?? 0;

/** The floor over image files: `files[0..warmup)` warm up, the rest are measured. */
export async function imageFloor(options: {
  model: FloorModel;
  files: readonly string[];
  warmup: number;
}): Promise<FloorResult> {
  const { model, files, warmup } = options;
  const { session, data, run } = await openSession(model);
  const side = model.preprocess.resizeShortSide;
  try {
    let start = cpuNow();
    for (const [i, file] of files.entries()) {
      if (i === warmup) start = cpuNow();
      const { data: rgb, info } = await sharp(await readFile(file))
        .resize(side, side, { fit: 'outside', kernel: 'cubic' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      cropToTensor(rgb, info, model.preprocess, data);
      await run();
    }
    const frames = files.length - warmup;
    const cpuMs = cpuNow() - start;
    return { frames, cpuMs, msPerFrame: cpuMs / frames };
  } finally {
    await session.release();
  }
}

/** The size ffmpeg reports for the first video stream of its input (`Video: h264 …, 768x432`). */
export function videoSizeFrom(log: string): { width: number; height: number } | null {
  const m = /Stream #\d+:\d+.*?: Video: .*?, (\d{2,5})x(\d{2,5})(?=[\s,[]|$)/m.exec(log);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
}

/** The floor over a video: ffmpeg at `fps` and `frame` size (the agent's), then crop, tensor, run. */
export async function videoFloor(options: {
  model: FloorModel;
  ffmpeg: string;
  file: string;
  fps: number;
  /** The size ffmpeg scales to (the agent's: short side to the model's resize). */
  frame: { width: number; height: number };
  warmup: number;
}): Promise<FloorResult> {
  const { model, frame, warmup } = options;
  const { session, data, run } = await openSession(model);
  const bytes = frame.width * frame.height * 3;
  const child = spawn(
    options.ffmpeg,
    [
      ...['-hide_banner', '-nostdin', '-nostats', '-v', 'error', '-i', options.file],
      ...['-map', '0:v:0', '-an', '-sn', '-dn'],
      ...['-vf', `fps=${options.fps},scale=${frame.width}:${frame.height}`],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const rgb = Buffer.allocUnsafe(bytes);
  let filled = 0;
  let n = 0;
  let start = cpuNow();
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const take = Math.min(bytes - filled, chunk.length - at);
        chunk.copy(rgb, filled, at, at + take);
        filled += take;
        at += take;
        if (filled < bytes) break;
        filled = 0;
        if (n === warmup) start = cpuNow();
        cropToTensor(rgb, frame, model.preprocess, data);
        await run();
        n += 1;
      }
    }
    const code = await exited;
    if (code !== 0) throw new Error(`ffmpeg exited with code ${code} on ${options.file}`);
    const frames = n - warmup;
    if (frames < 1)
      throw new Error(`${options.file} gave ${n} frames, not more than the ${warmup} of warm-up`);
    const cpuMs = cpuNow() - start;
    return { frames, cpuMs, msPerFrame: cpuMs / frames };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await session.release();
  }
}
