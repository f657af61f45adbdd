/**
 * A classify camera's scene, as far as the cloud is concerned: the answer it gave for the scene's
 * label, reused by later frames instead of asking again. The scene changes when another local
 * label wins `minFrames` analysed frames in a row, so a label that flickers for a frame or two
 * (the edge model on a moving street) does not cost another offload.
 */
export interface SceneMemory<R> {
  /** The scene's answer for a frame whose local top-1 is `index`, or null when the scene changed. */
  lookup(index: number): R | null;
  /** The cloud is being asked for this frame: its answer becomes the scene's. */
  remember(index: number, ref: R): void;
  /** The frame failed before it was asked: it is not the scene's answer after all. */
  forget(ref: R): void;
}

export function createSceneMemory<R>(options: { minFrames?: number } = {}): SceneMemory<R> {
  const { minFrames = 1 } = options;
  let scene: { index: number; ref: R } | null = null;
  let challenger: { index: number; frames: number } | null = null;
  return {
    lookup(index) {
      if (!scene) return null;
      if (index === scene.index) {
        challenger = null;
        return scene.ref;
      }
      challenger =
        challenger?.index === index ? { index, frames: challenger.frames + 1 } : { index, frames: 1 };
      if (challenger.frames < minFrames) return scene.ref;
      scene = null;
      challenger = null;
      return null;
    },
    remember(index, ref) {
      scene = { index, ref };
      challenger = null;
    },
    forget(ref) {
      if (scene?.ref === ref) scene = null;
    },
  };
}
