import { epochSeconds, roundScore, type SceneEvent, type SceneState } from './frigate.ts';

export interface SceneEventOptions {
  camera: string;
  /** A new label must win this many consecutive frames before it is a scene change. Default 3. */
  minFrames?: number;
  /** …and hold for at least this long, ms (0: frames alone decide). Default 0. */
  minDurationMs?: number;
  /** Frames scoring below this neither confirm nor break a candidate label. Default 0. */
  minScore?: number;
}

/** One classify camera's label per frame in, `scene` events out (one per change of scene). */
export interface SceneEventBuilder {
  /** `atMs` is epoch ms. Returns the scene event this frame confirmed, if any. */
  observe(frame: { seq: number; atMs: number; label: string; score: number }): SceneEvent[];
  /** The scene in force, or null before the first one is confirmed. */
  readonly current: SceneState | null;
}

/**
 * Hysteresis for a per-frame label: a label that flickers for one or two frames is not a scene
 * change. A candidate label becomes the scene once it won `minFrames` consecutive frames (and
 * `minDurationMs`); the new scene starts at the first of those frames, and the previous scene
 * ends there. Low-score frames are ignored rather than counted for or against.
 */
export function createSceneEventBuilder(options: SceneEventOptions): SceneEventBuilder {
  const { camera, minFrames = 3, minDurationMs = 0, minScore = 0 } = options;
  let current: SceneState | null = null;
  let run: { label: string; seq: number; startMs: number; frames: number; scoreSum: number } | null = null;

  return {
    observe({ seq, atMs, label, score }) {
      if (score < minScore) return [];
      if (current !== null && label === current.label) {
        run = null;
        return [];
      }
      if (run === null || run.label !== label) run = { label, seq, startMs: atMs, frames: 0, scoreSum: 0 };
      run.frames++;
      run.scoreSum += score;
      if (run.frames < minFrames || atMs - run.startMs < minDurationMs) return [];
      const after: SceneState = {
        camera,
        label,
        score: roundScore(run.scoreSum / run.frames),
        seq: run.seq,
        start_time: epochSeconds(run.startMs),
        end_time: null,
        frame_time: epochSeconds(atMs),
      };
      const before = current === null ? null : { ...current, end_time: after.start_time };
      current = after;
      run = null;
      return [{ type: 'scene', before, after }];
    },
    get current() {
      return current;
    },
  };
}
