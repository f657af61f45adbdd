import type { Box } from '@squeezegate/shared';

/** `[x1, y1, x2, y2]` in whole pixels of the analysed frame, as Frigate writes boxes. */
export type FrigateBox = [number, number, number, number];

/** Frigate's `snapshot`: the best view of the object so far (no image is stored: `has_snapshot` is false). */
export interface FrigateSnapshot {
  frame_time: number;
  box: FrigateBox;
  area: number;
  region: FrigateBox;
  score: number;
  attributes: [];
}

/**
 * One side (`before` / `after`) of a Frigate `frigate/events` message, with the fields this
 * agent can fill honestly (docs.frigate.video/integrations/mqtt). Times are epoch seconds.
 * `track_id` is ours (the tracker's id); consumers of Frigate ignore unknown keys.
 */
export interface FrigateObject {
  id: string;
  camera: string;
  frame_time: number;
  snapshot: FrigateSnapshot;
  label: string;
  sub_label: null;
  top_score: number;
  false_positive: boolean;
  start_time: number;
  end_time: number | null;
  score: number;
  box: FrigateBox;
  area: number;
  ratio: number;
  region: FrigateBox;
  active: boolean;
  stationary: boolean;
  /** Detector runs (not frames: the gate skips still frames) the box stayed on its anchor. */
  motionless_count: number;
  /** Times the object moved off a stationary position. */
  position_changes: number;
  current_zones: string[];
  entered_zones: string[];
  thumbnail: null;
  has_snapshot: false;
  has_clip: false;
  attributes: Record<string, number>;
  current_attributes: [];
  track_id: number;
}

/** A track's start, material change or end, shaped like Frigate's `frigate/events` payload. */
export interface TrackEvent {
  type: 'new' | 'update' | 'end';
  before: FrigateObject;
  after: FrigateObject;
}

/** One side of a scene event: a stretch of time during which a classify camera kept one label. */
export interface SceneState {
  camera: string;
  label: string;
  /** Mean score of the label over the frames that confirmed it. */
  score: number;
  /** Seq of the first frame of the stretch. */
  seq: number;
  start_time: number;
  /** Set on `before` when the stretch ended (the start of the next one). */
  end_time: number | null;
  /** Time of the frame that confirmed the change. */
  frame_time: number;
}

/** A change of a classify camera's scene label; `before` is null for the camera's first scene. */
export interface SceneEvent {
  type: 'scene';
  before: SceneState | null;
  after: SceneState;
}

export type CameraEvent = TrackEvent | SceneEvent;

/** Epoch seconds, microsecond precision like Frigate's times. */
export const epochSeconds = (ms: number): number => Math.round(ms * 1000) / 1e6;

export const roundScore = (s: number): number => Math.round(s * 1e4) / 1e4;

export function frigateBox(b: Box): FrigateBox {
  return [Math.round(b[0]), Math.round(b[1]), Math.round(b[2]), Math.round(b[3])];
}

export function boxArea(b: FrigateBox): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/** Width over height, 4 decimals (Frigate's `ratio`). */
export function boxRatio(b: FrigateBox): number {
  const h = b[3] - b[1];
  return h > 0 ? Math.round(((b[2] - b[0]) / h) * 1e4) / 1e4 : 0;
}
