import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { RawImage } from '../image/raw.ts';
import { openModelSession } from '../inference/session.ts';
import { ModelErrorCode, ModelLoadError } from '../models/errors.ts';
import { verifyFile } from '../models/resolve.ts';
import { DETECTOR_IDS, type DetectorSpec, faceSearchModels, getDetectorSpec } from './catalog.ts';
import {
  type DecodeOptions,
  decodePicodet,
  decodeSqueezedet,
  decodeUltraface,
  decodeYolox,
  decodeYunet,
} from './decode.ts';
import { nms } from './nms.ts';
import { openFaceSearch } from './open-face-search.ts';
import { prepareInput, prepareMirrored, type Region } from './preprocess.ts';
import { squareTiles, type Tile, touchesSeam } from './tiling.ts';
import type { Detection, Detector } from './types.ts';

export interface OnnxDetectorOptions {
  spec: DetectorSpec;
  /** Verified model file (see openDetector). */
  path: string;
  /** Class names, one per model class (`background` already dropped). */
  labels: readonly string[];
  /** intra-op threads; 1 keeps several sessions in one process from fighting over cores. */
  threads?: number;
}

type Outputs = ort.InferenceSession.ReturnType;

function floats(out: Outputs, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`output ${name} missing or not float32`);
  return t.data;
}

function decode(spec: DetectorSpec, out: Outputs, options: DecodeOptions): Detection[] {
  const o = spec.outputs;
  switch (spec.family) {
    case 'yolox':
      return decodeYolox(floats(out, o[0]!), options);
    case 'picodet':
      return decodePicodet(
        {
          scores: o.slice(0, 4).map((n) => floats(out, n)),
          boxes: o.slice(4, 8).map((n) => floats(out, n)),
        },
        options,
      );
    case 'squeezedet':
      return decodeSqueezedet({ boxes: floats(out, o[0]!), scores: floats(out, o[1]!) }, options);
    case 'ultraface':
      return decodeUltraface({ scores: floats(out, o[0]!), boxes: floats(out, o[1]!) }, options);
    case 'yunet': {
      const level = (k: number) => o.slice(k * 3, k * 3 + 3).map((n) => floats(out, n));
      return decodeYunet({ cls: level(0), obj: level(1), bbox: level(2), kps: level(3) }, options);
    }
  }
}

/**
 * The input a dynamic-input model (YuNet) gets for an image: its size times `scale` (the longer
 * side capped at `maxSide`), each side rounded up to the model's multiple.
 */
export function dynamicInputSize(
  spec: DetectorSpec,
  image: { width: number; height: number },
  scale = 1,
): { width: number; height: number } {
  const dynamic = spec.input.dynamic;
  if (!dynamic) return { width: spec.input.width, height: spec.input.height };
  if (!(scale > 0)) throw new RangeError(`scale must be positive, got ${scale}`);
  const r = Math.min(scale, dynamic.maxSide / Math.max(image.width, image.height));
  const up = (v: number) =>
    Math.max(dynamic.multiple, Math.ceil((v * r) / dynamic.multiple) * dynamic.multiple);
  return { width: up(image.width), height: up(image.height) };
}

/** Opens an onnxruntime-node session for a detector whose files are already verified. */
export async function createOnnxDetector(options: OnnxDetectorOptions): Promise<Detector> {
  const { spec, path, threads = 1 } = options;
  const labels = Object.freeze([...options.labels]);
  if (labels.length !== spec.classes) {
    throw new ModelLoadError(
      ModelErrorCode.LOAD,
      path,
      `${spec.id} scores ${spec.classes} classes but ${labels.length} labels were given`,
    );
  }
  const session = await openModelSession({
    path,
    threads,
    expects: { inputs: [spec.input.name], outputs: spec.outputs },
    expectedBy: 'catalog',
    // The shipped UltraFace copies keep a few unused initializers; ORT warns once per tensor.
    logSeverityLevel: 3,
  });

  // Tiles only make sense for a square input fed a frame of another shape (DETECTION.md Gotcha 1);
  // a dynamic input already sees the whole frame at its own size.
  const canTile = spec.input.width === spec.input.height && !spec.input.dynamic;
  const close = () => session.close();

  return {
    spec,
    labels,
    async detect(image: RawImage, detectOptions = {}) {
      if (session.closed) throw new Error(`detector ${spec.id} is closed`);
      const { scoreThreshold = spec.thresholds.score, tiling = 'off', scale = 1, mirror = 0 } = detectOptions;
      const dynamic = spec.input.dynamic;
      // The whole frame first, then (when tiling) each tile.
      const passes: (Tile | undefined)[] = [undefined];
      if (tiling === 'auto' && canTile) {
        const tiles = squareTiles(image.width, image.height);
        if (tiles.length > 1) passes.push(...tiles);
      }
      let preMs = 0;
      let inferMs = 0;
      const found: Detection[] = [];
      for (const tile of passes) {
        const t0 = performance.now();
        const region: Region | undefined = tile && {
          left: tile.left,
          top: tile.top,
          width: tile.size,
          height: tile.size,
        };
        const mirrored =
          dynamic && mirror > 0 && !region
            ? await prepareMirrored(image, {
                preprocess: spec.preprocess,
                scale: Math.min(scale, dynamic.maxSide / Math.max(image.width, image.height)),
                margin: mirror,
                multiple: dynamic.multiple,
              })
            : null;
        const input = mirrored?.input ?? dynamicInputSize(spec, image, scale);
        const { width: inW, height: inH } = input;
        const prepared =
          mirrored ??
          (await prepareInput(image, {
            preprocess: spec.preprocess,
            input,
            ...(region ? { region } : {}),
          }));
        const t1 = performance.now();
        const feeds = { [spec.input.name]: new ort.Tensor('float32', prepared.data, [1, 3, inH, inW]) };
        const out = await session.run(feeds, spec.outputs);
        const t2 = performance.now();
        preMs += t1 - t0;
        inferMs += t2 - t1;
        const decoded = decode(spec, out, {
          mapping: prepared.mapping,
          input,
          labels,
          scoreThreshold,
          nms: spec.thresholds.nms,
          maxDetections: spec.thresholds.maxDetections,
          preNmsTopK: spec.thresholds.preNmsTopK,
        });
        found.push(...(tile ? decoded.filter((d) => !touchesSeam(d.box, tile, image)) : decoded));
      }
      // One pass is already suppressed and sorted; several are merged with the same NMS.
      const detections =
        passes.length === 1
          ? found
          : nms(found, { iou: spec.thresholds.nms, maxDetections: spec.thresholds.maxDetections });
      return { detections, inferMs, preMs, tiles: passes.length };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Reads a detector's label file (after checking its size and sha256): one name per line, a
 * leading `background` dropped when the model has one class fewer (UltraFace).
 */
export async function loadDetectorLabels(spec: DetectorSpec, modelsDir: string): Promise<readonly string[]> {
  const file = await verifyFile(spec.labels, modelsDir);
  let lines = (await readFile(file, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === spec.classes + 1 && lines[0] === 'background') lines = lines.slice(1);
  if (lines.length !== spec.classes) {
    throw new ModelLoadError(
      ModelErrorCode.LOAD,
      file,
      `${file} names ${lines.length} classes; ${spec.id} scores ${spec.classes}`,
    );
  }
  return Object.freeze(lines);
}

/**
 * Looks a detector up in the catalog, verifies its model and label files (size and sha256, with
 * the same ModelLoadError codes as resolveModel) and opens it. Face models joined by `+`
 * (`yunet-s+ultraface-rfb320`) open as one face search: the faces a person has, animals spared.
 */
export async function openDetector(options: {
  id: string;
  modelsDir: string;
  threads?: number;
}): Promise<Detector> {
  const { id, modelsDir, threads } = options;
  // Several face models joined by "+" are one face search (face-search.ts), human check included.
  if (faceSearchModels(id).length > 1) {
    return openFaceSearch({
      id,
      modelsDir,
      ...(threads === undefined ? {} : { threads }),
      open: (one) => openDetector({ id: one, modelsDir, ...(threads === undefined ? {} : { threads }) }),
    });
  }
  const spec = getDetectorSpec(id);
  if (!spec) {
    throw new ModelLoadError(
      ModelErrorCode.UNKNOWN,
      id,
      `Unknown detector "${id}"; known detectors: ${DETECTOR_IDS.join(', ')}.`,
    );
  }
  const path = await verifyFile(spec, modelsDir);
  const labels = await loadDetectorLabels(spec, modelsDir);
  return createOnnxDetector({ spec, path, labels, ...(threads === undefined ? {} : { threads }) });
}
