import { type Box, iou } from '@squeezegate/shared';
import { type BoxFilter, boxOf, correct, createBoxFilter, predict } from './kalman.ts';

/** What the tracker needs of a detection (the shared `Detection` fits). */
export interface TrackInput {
  box: Box;
  label: string;
  score: number;
}

/** The frame where a track's detection scored best (for its current label). */
export interface BestFrame {
  seq: number;
  atMs: number;
  score: number;
  box: Box;
}

/** A tracked object, as of the latest update. Snapshots: later updates never mutate them. */
export interface Track {
  /** Stable for the tracker's life, 1, 2, 3… in order of creation. */
  readonly id: number;
  readonly label: string;
  /** The box of the last matched detection. */
  readonly box: Box;
  /** The Kalman estimate for this update (the prediction when the track was not matched). */
  readonly estimate: Box;
  /** Score of the last matched detection. */
  readonly score: number;
  /** Best score seen for the current label. */
  readonly topScore: number;
  readonly bestFrame: BestFrame;
  /** Detections matched to the track. */
  readonly hits: number;
  /** Updates since the track was created. */
  readonly age: number;
  /** Consecutive updates without a matched detection (0 when matched in this update). */
  readonly missed: number;
  /** Reached `minHits`; stays true until the track ends. */
  readonly confirmed: boolean;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

export interface TrackerOptions {
  /** Smallest IoU between a detection and a track's predicted box to match them. Default 0.3 (SORT). */
  iouThreshold?: number;
  /** Matched detections before a track is confirmed. Default 3 (SORT). */
  minHits?: number;
  /** A confirmed track ends after more than this many consecutive updates without a match. Default 10. */
  maxAge?: number;
  /** … or when it was last seen more than this long ago, ms. Default 5,000. */
  maxAgeMs?: number;
  /**
   * Association is per class: a detection only matches tracks of its own label. With
   * `relabelIou` set, a detection left over after that pass may still take over an unmatched
   * track of another label when they overlap by at least this IoU, and the track's label
   * changes (a detector flickering between "car" and "truck" keeps one track). Default: off.
   */
  relabelIou?: number;
}

export interface TrackerUpdate {
  seq: number;
  atMs: number;
  /** Every live track after this update, confirmed or not, by id. */
  tracks: Track[];
  /** For each input detection (same order), the id of the track it now belongs to. */
  assignments: number[];
  /** Tracks created by this update. */
  started: Track[];
  /** Tracks that became confirmed in this update. */
  confirmed: Track[];
  /** Tracks removed by this update (missed too long); they are not in `tracks`. */
  ended: Track[];
}

/**
 * SORT-style multi-object tracker (Bewley et al. 2016): a constant-velocity Kalman filter per
 * track, greedy association by descending IoU between detections and predicted boxes, per class.
 *
 * Call `update` once per frame that went through the detector. Frames the scene gate judged
 * unchanged are not updates (nothing moved), but call `expire` for them so that tracks of
 * objects that left still end on time. A tentative track (not yet `minHits`) ends at its first
 * miss, as in DeepSORT, so one-frame false positives never become events; while `pending` is
 * true the caller should keep the detector running (e.g. `gate.reset()`) so they resolve fast.
 */
export interface Tracker {
  update(frame: { seq: number; atMs: number; detections: readonly TrackInput[] }): TrackerUpdate;
  /** Ends tracks last seen more than `maxAgeMs` before `atMs`, without a detector run. */
  expire(atMs: number): Track[];
  /** Live tracks, by id. */
  readonly tracks: Track[];
  /** Some live track is still tentative. */
  readonly pending: boolean;
}

interface State {
  id: number;
  label: string;
  filter: BoxFilter;
  box: Box;
  score: number;
  topScore: number;
  bestFrame: BestFrame;
  hits: number;
  age: number;
  missed: number;
  confirmed: boolean;
  firstSeq: number;
  lastSeq: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

const snapshot = (s: State): Track =>
  Object.freeze({
    id: s.id,
    label: s.label,
    box: s.box,
    estimate: boxOf(s.filter),
    score: s.score,
    topScore: s.topScore,
    bestFrame: s.bestFrame,
    hits: s.hits,
    age: s.age,
    missed: s.missed,
    confirmed: s.confirmed,
    firstSeq: s.firstSeq,
    lastSeq: s.lastSeq,
    firstSeenMs: s.firstSeenMs,
    lastSeenMs: s.lastSeenMs,
  });

/** Greedy matching by descending IoU (ties: lower track id, then lower detection index). */
function greedy(
  dets: readonly TrackInput[],
  detIdx: number[],
  states: State[],
  threshold: number,
  sameLabel: boolean,
): [number, State][] {
  const pairs: { d: number; s: State; v: number }[] = [];
  for (const d of detIdx) {
    for (const s of states) {
      if (sameLabel && s.label !== dets[d]!.label) continue;
      const v = iou(dets[d]!.box, boxOf(s.filter));
      if (v >= threshold) pairs.push({ d, s, v });
    }
  }
  pairs.sort((a, b) => b.v - a.v || a.s.id - b.s.id || a.d - b.d);
  const usedD = new Set<number>();
  const usedS = new Set<State>();
  const out: [number, State][] = [];
  for (const { d, s } of pairs) {
    if (usedD.has(d) || usedS.has(s)) continue;
    usedD.add(d);
    usedS.add(s);
    out.push([d, s]);
  }
  return out;
}

export function createTracker(options: TrackerOptions = {}): Tracker {
  const { iouThreshold = 0.3, minHits = 3, maxAge = 10, maxAgeMs = 5_000, relabelIou } = options;
  let live: State[] = [];
  let nextId = 1;

  const dead = (s: State, atMs: number) =>
    s.missed > 0 && (!s.confirmed || s.missed > maxAge || atMs - s.lastSeenMs > maxAgeMs);

  return {
    update({ seq, atMs, detections }) {
      for (const s of live) {
        predict(s.filter);
        s.age++;
      }
      const all = detections.map((_, i) => i);
      const matches = greedy(detections, all, live, iouThreshold, true);
      if (relabelIou !== undefined) {
        const usedD = new Set(matches.map(([d]) => d));
        const usedS = new Set(matches.map(([, s]) => s));
        const restD = all.filter((d) => !usedD.has(d));
        const restS = live.filter((s) => !usedS.has(s));
        matches.push(...greedy(detections, restD, restS, relabelIou, false));
      }
      const assignments = new Array<number>(detections.length).fill(0);
      const confirmed: State[] = [];
      const matched = new Set<State>();
      for (const [d, s] of matches) {
        const det = detections[d]!;
        matched.add(s);
        assignments[d] = s.id;
        correct(s.filter, det.box);
        if (det.label !== s.label) {
          // A new label starts a new best frame: what was best for "car" says nothing of "truck".
          s.label = det.label;
          s.topScore = det.score;
          s.bestFrame = { seq, atMs, score: det.score, box: det.box };
        } else if (det.score > s.bestFrame.score) {
          s.bestFrame = { seq, atMs, score: det.score, box: det.box };
        }
        s.topScore = Math.max(s.topScore, det.score);
        s.box = det.box;
        s.score = det.score;
        s.hits++;
        s.missed = 0;
        s.lastSeq = seq;
        s.lastSeenMs = atMs;
        if (!s.confirmed && s.hits >= minHits) {
          s.confirmed = true;
          confirmed.push(s);
        }
      }
      for (const s of live) if (!matched.has(s)) s.missed++;
      const ended = live.filter((s) => dead(s, atMs));
      live = live.filter((s) => !dead(s, atMs));
      const started: State[] = [];
      detections.forEach((det, d) => {
        if (assignments[d] !== 0) return;
        const s: State = {
          id: nextId++,
          label: det.label,
          filter: createBoxFilter(det.box),
          box: det.box,
          score: det.score,
          topScore: det.score,
          bestFrame: { seq, atMs, score: det.score, box: det.box },
          hits: 1,
          age: 0,
          missed: 0,
          confirmed: minHits <= 1,
          firstSeq: seq,
          lastSeq: seq,
          firstSeenMs: atMs,
          lastSeenMs: atMs,
        };
        assignments[d] = s.id;
        started.push(s);
        if (s.confirmed) confirmed.push(s);
        live.push(s);
      });
      return {
        seq,
        atMs,
        tracks: live.map(snapshot),
        assignments,
        started: started.map(snapshot),
        confirmed: confirmed.map(snapshot),
        ended: ended.map(snapshot),
      };
    },
    expire(atMs) {
      const gone = live.filter((s) => atMs - s.lastSeenMs > maxAgeMs);
      live = live.filter((s) => atMs - s.lastSeenMs <= maxAgeMs);
      return gone.map(snapshot);
    },
    get tracks() {
      return live.map(snapshot);
    },
    get pending() {
      return live.some((s) => !s.confirmed);
    },
  };
}
