import { createOnnxClassifier } from '../inference/onnx-classifier.ts';
import { getModelSpec } from '../models/catalog.ts';
import { ModelErrorCode, ModelLoadError } from '../models/errors.ts';
import { resolveModel, verifyFile } from '../models/resolve.ts';
import { DETECTORS, faceSearchModels, getDetectorSpec, isFaceSearchId } from './catalog.ts';
import { createFaceSearch, type FaceSearch } from './face-search.ts';
import type { HumanFaceRules } from './human-face.ts';
import type { Detector } from './types.ts';

/** The ImageNet classifier the human check asks whether an unsure face is an animal's. */
export const ANIMAL_CHECK_MODEL = 'squeezenet1.1';

/**
 * Opens a face search over several face models (`yunet-s+ultraface-rfb320`): each detector
 * verified like openDetector does, plus the ImageNet classifier of the human check unless
 * `spareAnimals` is false. Closing the search closes them all.
 */
export async function openFaceSearch(options: {
  id: string;
  modelsDir: string;
  threads?: number;
  spareAnimals?: boolean;
  rules?: Partial<HumanFaceRules>;
  /** Opens one catalogued detector (openDetector; injected to avoid an import cycle). */
  open: (id: string) => Promise<Detector>;
}): Promise<FaceSearch> {
  const { id, modelsDir, threads, spareAnimals = true, open } = options;
  if (!isFaceSearchId(id)) {
    const faces = DETECTORS.filter((d) => d.role === 'face').map((d) => d.id);
    throw new ModelLoadError(
      ModelErrorCode.UNKNOWN,
      id,
      `"${id}" is not a face search: join face models (${faces.join(', ')}) with "+", each at most once.`,
    );
  }
  // Every file is checked before any is opened, so that one message names all that are missing.
  const files = [
    ...faceSearchModels(id).flatMap((m) => {
      const spec = getDetectorSpec(m)!;
      return [spec, spec.labels];
    }),
    ...(spareAnimals ? [getModelSpec(ANIMAL_CHECK_MODEL)!] : []),
  ];
  const problems = (
    await Promise.all(
      files.map((f) =>
        verifyFile(f, modelsDir).then(
          () => null,
          (err: unknown) => err,
        ),
      ),
    )
  ).filter((e): e is ModelLoadError => e instanceof ModelLoadError);
  if (problems.length > 0) {
    const [first] = problems as [ModelLoadError, ...ModelLoadError[]];
    throw new ModelLoadError(first.code, first.file, problems.map((p) => p.message).join('\n'), {
      cause: first,
    });
  }
  const opened: Detector[] = [];
  const closeAll = async () => {
    for (const d of opened) await d.close();
  };
  try {
    for (const m of faceSearchModels(id)) opened.push(await open(m));
    const yunet = opened.find((d) => getDetectorSpec(d.spec.id)?.family === 'yunet') ?? null;
    const others = opened.filter((d) => d !== yunet);
    const animals = spareAnimals
      ? await createOnnxClassifier({
          ...(await resolveModel(ANIMAL_CHECK_MODEL, modelsDir)),
          ...(threads === undefined ? {} : { threads }),
        })
      : null;
    return createFaceSearch({ yunet, others, animals, ...(options.rules ? { rules: options.rules } : {}) });
  } catch (err) {
    await closeAll();
    throw err;
  }
}
