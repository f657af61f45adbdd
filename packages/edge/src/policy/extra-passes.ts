import {
  type Classifier,
  createOnnxClassifier,
  type ModelView,
  type PolicyConfig,
  resolveModel,
} from '@squeezegate/shared';
import { extraPassesFor } from './create-policy.ts';
import { type EdgeExtras, type ExtraNeeds, MissingExtraError } from './features.ts';

type View = Pick<ModelView, 'pixels' | 'size'>;

/** The model view mirrored left to right (interleaved RGB rows reversed pixel by pixel). */
export function mirrorView<T extends View>(view: T): T {
  const { size, pixels } = view;
  const out = Buffer.allocUnsafe(pixels.length);
  const row = size * 3;
  for (let y = 0; y < size; y++) {
    const base = y * row;
    for (let x = 0; x < size; x++) {
      const from = base + x * 3;
      const to = base + (size - 1 - x) * 3;
      out[to] = pixels[from]!;
      out[to + 1] = pixels[from + 1]!;
      out[to + 2] = pixels[from + 2]!;
    }
  }
  return { ...view, pixels: out };
}

/**
 * The extra edge passes a learned rule reads (issue 16 §2): the edge model on the mirrored
 * view, a second edge model on its own view of the frame. The agent and the bench's signal
 * cache both call this, so a policy scores a frame as the bench measured it.
 */
export async function runExtraPasses(options: {
  needs: ExtraNeeds;
  edge: Classifier;
  view: View;
  alt?: { classifier: Classifier; view: () => Promise<View> } | null;
}): Promise<EdgeExtras> {
  const { needs, edge, view, alt } = options;
  const extras: EdgeExtras = {};
  if (needs.flip) extras.flip = (await edge.classify([mirrorView(view)]))[0]!.probs;
  if (needs.alt) {
    if (!alt)
      throw new MissingExtraError('the policy reads alt-model features but no alt classifier was given');
    extras.alt = (await alt.classifier.classify([await alt.view()]))[0]!.probs;
  }
  return extras;
}

/** The extra passes of a policy, opened: what `createEdgeAgent`'s `extraPasses` takes. */
export interface OpenedExtraPasses {
  needs: ExtraNeeds;
  alt: Classifier | null;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Opens what a policy's extra passes need (the alt model, verified against the catalog), or
 * null when the policy reads none. The runtime passes the result to the agent and closes it on
 * shutdown.
 */
export async function openExtraPasses(options: {
  config: PolicyConfig;
  modelsDir: string;
}): Promise<OpenedExtraPasses | null> {
  const passes = extraPassesFor(options.config);
  if (!passes) return null;
  const alt = passes.altModel
    ? await createOnnxClassifier(await resolveModel(passes.altModel, options.modelsDir))
    : null;
  const close = async () => {
    await alt?.close();
  };
  return { needs: { flip: passes.flip, alt: passes.alt }, alt, close, [Symbol.asyncDispose]: close };
}
