import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createOnnxDetector,
  type DetectorSpec,
  getDetectorSpec,
  ModelErrorCode,
  ModelLoadError,
  openDetector,
  type RawImage,
} from '@squeezegate/shared';
// onnx-proto is CommonJS; Node's ESM loader only exposes its default export.
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

interface ConstantOutput {
  name: string;
  dims: number[];
  values: Float32Array;
}

/**
 * A graph that takes the detector's input and answers with fixed output tensors (Constant
 * nodes): enough to exercise the session plumbing, preprocessing geometry, decoding and tiling
 * with known answers, without the real weights.
 */
function constantDetector(
  input: { name: string; dims: number[] },
  outputs: readonly ConstantOutput[],
): Uint8Array {
  const type = (dims: number[]) =>
    onnx.TypeProto.create({
      tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    });
  const graph = onnx.GraphProto.create({
    name: 'constant-detector',
    node: outputs.map((o) => {
      const raw = new DataView(new ArrayBuffer(o.values.length * 4));
      for (const [i, v] of o.values.entries()) raw.setFloat32(i * 4, v, true);
      return onnx.NodeProto.create({
        opType: 'Constant',
        output: [o.name],
        attribute: [
          {
            name: 'value',
            type: onnx.AttributeProto.AttributeType.TENSOR,
            t: { dataType: FLOAT, dims: o.dims, rawData: new Uint8Array(raw.buffer) },
          },
        ],
      });
    }),
    input: [{ name: input.name, type: type(input.dims) }],
    output: outputs.map((o) => ({ name: o.name, type: type(o.dims) })),
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'squeezegate-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

const grey = (width: number, height: number): RawImage => ({
  pixels: Buffer.alloc(width * height * 3, 128),
  width,
  height,
});

const specOf = (id: string): DetectorSpec => {
  const spec = getDetectorSpec(id);
  if (!spec) throw new Error(`no ${id}`);
  return spec;
};

let dir: string;
let ultrafacePath: string;
let yoloxPath: string;
let yoloxEdgePath: string;
const yolox = specOf('yolox-nano-416');
const ultraface = specOf('ultraface-rfb320');
const COCO = Array.from({ length: 80 }, (_, i) => (i === 0 ? 'person' : `class${i}`));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sqz-det-'));
  // UltraFace: one confident face at normalised (0.25, 0.25)–(0.5, 0.75), one under 0.7.
  ultrafacePath = path.join(dir, 'ultraface.onnx');
  await writeFile(
    ultrafacePath,
    constantDetector({ name: 'input', dims: [1, 3, 240, 320] }, [
      { name: 'scores', dims: [1, 2, 2], values: new Float32Array([0.05, 0.95, 0.4, 0.6]) },
      {
        name: 'boxes',
        dims: [1, 2, 4],
        values: new Float32Array([0.25, 0.25, 0.5, 0.75, 0.6, 0.6, 0.7, 0.7]),
      },
    ]),
  );
  // YOLOX: one person in stride-8 cell (12, 12): input box (84, 84)–(116, 116), score 0.81.
  const out = new Float32Array(3549 * 85);
  out.set([0.5, 0.5, Math.log(4), Math.log(4), 0.9, 0.9], (12 * 52 + 12) * 85);
  // …and one at the right edge of the input, (388, 84)–(416, 116) once clipped.
  const edge = new Float32Array(3549 * 85);
  edge.set([0.5, 0.5, Math.log(4), Math.log(4), 0.9, 0.9], (12 * 52 + 50) * 85);
  yoloxEdgePath = path.join(dir, 'yolox-edge.onnx');
  await writeFile(
    yoloxEdgePath,
    constantDetector({ name: 'images', dims: [1, 3, 416, 416] }, [
      { name: 'output', dims: [1, 3549, 85], values: edge },
    ]),
  );
  yoloxPath = path.join(dir, 'yolox.onnx');
  await writeFile(
    yoloxPath,
    constantDetector({ name: 'images', dims: [1, 3, 416, 416] }, [
      { name: 'output', dims: [1, 3549, 85], values: out },
    ]),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createOnnxDetector', () => {
  it('runs the session and returns boxes in frame pixels with the face label', async () => {
    await using detector = await createOnnxDetector({
      spec: ultraface,
      path: ultrafacePath,
      labels: ['face'],
    });
    expect(detector.labels).toEqual(['face']);
    const result = await detector.detect(grey(640, 480));
    expect(result.detections).toHaveLength(1);
    expect(result.detections[0]).toMatchObject({ label: 'face', classIndex: 0, box: [160, 120, 320, 360] });
    expect(result.detections[0]!.score).toBeCloseTo(0.95, 6);
    expect(result.tiles).toBe(1);
    expect(result.inferMs).toBeGreaterThan(0);
    expect(result.preMs).toBeGreaterThan(0);
    // A lower threshold lets the second face through.
    expect((await detector.detect(grey(640, 480), { scoreThreshold: 0.5 })).detections).toHaveLength(2);
  });

  it('with tiling, runs the whole frame plus each tile and maps tile boxes back', async () => {
    await using detector = await createOnnxDetector({ spec: yolox, path: yoloxPath, labels: COCO });
    const off = await detector.detect(grey(1242, 375));
    expect(off.tiles).toBe(1);
    expect(off.detections).toHaveLength(1);
    const r = 416 / 1242;
    off.detections[0]!.box.forEach((v, i) => {
      expect(v).toBeCloseTo([84, 84, 116, 116][i]! / r, 3);
    });

    const auto = await detector.detect(grey(1242, 375), { tiling: 'auto' });
    expect(auto.tiles).toBe(5);
    // The constant box lands in each 375 px tile at 84 / (416 / 375) ≈ 75.7 px from its corner.
    const t = 416 / 375;
    const lefts = auto.detections.map((d) => d.box[0]).sort((a, b) => a - b);
    const expected = [84 / r, ...[0, 289, 578, 867].map((left) => left + 84 / t)].sort((a, b) => a - b);
    expect(lefts).toHaveLength(5);
    lefts.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i]!, 3);
    });
    expect(auto.detections.every((d) => d.label === 'person')).toBe(true);

    // A square frame is never tiled.
    expect((await detector.detect(grey(416, 416), { tiling: 'auto' })).tiles).toBe(1);
  });

  it('drops tile boxes cut by a seam between tiles', async () => {
    await using detector = await createOnnxDetector({ spec: yolox, path: yoloxEdgePath, labels: COCO });
    const auto = await detector.detect(grey(1242, 375), { tiling: 'auto' });
    expect(auto.tiles).toBe(5);
    // The box runs into each tile's right side: a seam for the first three tiles, the frame's
    // edge for the last. What is left is the whole-frame box and the last tile's.
    expect(auto.detections.map((d) => Math.round(d.box[0])).sort((a, b) => a - b)).toEqual([
      Math.round(388 / (416 / 1242)),
      Math.round(867 + 388 / (416 / 375)),
    ]);
  });

  it('refuses a model without the catalogued tensors, or labels of the wrong count', async () => {
    const wrong = { ...ultraface, outputs: ['scores', 'bboxes'] };
    const err = await createOnnxDetector({ spec: wrong, path: ultrafacePath, labels: ['face'] }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).code).toBe(ModelErrorCode.LOAD);
    expect((err as ModelLoadError).message).toMatch(/bboxes/);
    await expect(
      createOnnxDetector({ spec: ultraface, path: ultrafacePath, labels: ['background', 'face'] }),
    ).rejects.toMatchObject({ code: ModelErrorCode.LOAD });
    await expect(
      createOnnxDetector({ spec: ultraface, path: path.join(dir, 'nope.onnx'), labels: ['face'] }),
    ).rejects.toMatchObject({ code: ModelErrorCode.LOAD });
  });

  it('closes once and refuses work afterwards', async () => {
    const detector = await createOnnxDetector({ spec: ultraface, path: ultrafacePath, labels: ['face'] });
    await detector.close();
    await detector.close();
    await detector[Symbol.asyncDispose]();
    await expect(detector.detect(grey(10, 10))).rejects.toThrow(/closed/);
  });
});

describe('openDetector', () => {
  it('names unknown detectors', async () => {
    const err = await openDetector({ id: 'yolo-v99', modelsDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err).toMatchObject({ code: ModelErrorCode.UNKNOWN, file: 'yolo-v99' });
    expect((err as Error).message).toMatch(/yolox-nano-416/);
  });

  it('verifies the model file: missing, wrong size, wrong checksum', async () => {
    const modelsDir = path.join(dir, 'models');
    await mkdir(path.join(modelsDir, 'detection'), { recursive: true });
    const target = path.join(modelsDir, ultraface.file);
    await expect(openDetector({ id: ultraface.id, modelsDir })).rejects.toMatchObject({
      code: ModelErrorCode.MISSING,
      file: target,
    });
    await writeFile(target, Buffer.alloc(10));
    await expect(openDetector({ id: ultraface.id, modelsDir })).rejects.toMatchObject({
      code: ModelErrorCode.SIZE,
    });
    await writeFile(target, Buffer.alloc(ultraface.bytes));
    await expect(openDetector({ id: ultraface.id, modelsDir })).rejects.toMatchObject({
      code: ModelErrorCode.CHECKSUM,
    });
  });
});
