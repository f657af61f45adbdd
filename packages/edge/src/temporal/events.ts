import { randomBytes } from 'node:crypto';
import { iou } from '@squeezegate/shared';
import {
  boxArea,
  boxRatio,
  epochSeconds,
  type FrigateBox,
  type FrigateObject,
  frigateBox,
  roundScore,
  type TrackEvent,
} from './frigate.ts';
import type { Track, TrackerUpdate } from './tracker.ts';

export interface TrackEventOptions {
  camera: string;
  /** Size of the analysed frame: Frigate's `region` (the area the detector saw). Default: the box. */
  frame?: { width: number; height: number };
  /** A box overlapping its anchor by at least this IoU counts as motionless. Default 0.6. */
  stationaryIou?: number;
  /**
   * An object that stayed on its anchor this long is `stationary`, ms. Default 10,000 (Frigate's
   * default is 50 frames, 10 s at its 5 fps). Time, not frames: the scene gate keeps the detector
   * off while a scene is still, so a parked car gets few detector runs.
   */
  stationaryMs?: number;
  /** An update is due when the box's IoU with the last published box falls below this. Default 0.5. */
  moveIou?: number;
  /** An update is due when `top_score` rose by this much since the last message. Default 0.05. */
  scoreDelta?: number;
  /** Score and box updates of one track are at least this far apart, ms. Default 2,000. */
  minUpdateIntervalMs?: number;
  /** An update is due at least this often while the track lives, ms. Default 60,000 (Frigate). */
  heartbeatMs?: number;
  /** Event id suffix; default 6 random base-36 characters (Frigate: `<start_time>-<6 chars>`). */
  randomId?: () => string;
}

/** Turns tracker updates into Frigate-shaped `new` / `update` / `end` events for one camera. */
export interface TrackEventBuilder {
  /** Events due after this tracker update, in order. `atMs` of the update is epoch ms. */
  onUpdate(update: Pick<TrackerUpdate, 'seq' | 'atMs' | 'tracks' | 'ended'>): TrackEvent[];
  /** Ends every published track (shutdown): `end` events with `end_time` = last seen. */
  flush(): TrackEvent[];
  /** Published tracks not yet ended. */
  readonly open: number;
}

interface State {
  eventId: string;
  initial: FrigateObject | null;
  published: FrigateObject | null;
  lastPublishMs: number;
  anchor: FrigateBox;
  motionless: number;
  motionlessSinceMs: number;
  positionChanges: number;
  last: Track;
}

const defaultRandomId = () =>
  Array.from(randomBytes(6), (b) => '0123456789abcdefghijklmnopqrstuvwxyz'[b % 36]).join('');

/**
 * Frigate publishes `new` once an object stops being a false positive, `update` when something
 * material changes (a better snapshot, zones, stationary ↔ active, and at least once a minute),
 * and `end` once with `end_time` set. Here: `new` when the track is confirmed (a tentative track
 * never produces events); `update` immediately on a label change or a stationary ↔ active
 * change, and on a `top_score` gain or a box move at most once per `minUpdateIntervalMs`; a
 * heartbeat every `heartbeatMs`; `end` when the tracker ends a published track, with `end_time`
 * the time it was last seen (Frigate uses the time it gave up on it).
 */
export function createTrackEventBuilder(options: TrackEventOptions): TrackEventBuilder {
  const {
    camera,
    frame,
    stationaryIou = 0.6,
    stationaryMs = 10_000,
    moveIou = 0.5,
    scoreDelta = 0.05,
    minUpdateIntervalMs = 2_000,
    heartbeatMs = 60_000,
    randomId = defaultRandomId,
  } = options;
  const states = new Map<number, State>();

  const objectOf = (t: Track, s: State, frameMs: number, endMs: number | null): FrigateObject => {
    const box = frigateBox(t.box);
    const best = frigateBox(t.bestFrame.box);
    const region: FrigateBox = frame ? [0, 0, frame.width, frame.height] : box;
    const stationary = frameMs - s.motionlessSinceMs >= stationaryMs;
    return {
      id: s.eventId,
      camera,
      frame_time: epochSeconds(frameMs),
      snapshot: {
        frame_time: epochSeconds(t.bestFrame.atMs),
        box: best,
        area: boxArea(best),
        region: frame ? region : best,
        score: roundScore(t.bestFrame.score),
        attributes: [],
      },
      label: t.label,
      sub_label: null,
      top_score: roundScore(t.topScore),
      false_positive: !t.confirmed,
      start_time: epochSeconds(t.firstSeenMs),
      end_time: endMs === null ? null : epochSeconds(endMs),
      score: roundScore(t.score),
      box,
      area: boxArea(box),
      ratio: boxRatio(box),
      region,
      active: !stationary,
      stationary,
      motionless_count: s.motionless,
      position_changes: s.positionChanges,
      current_zones: [],
      entered_zones: [],
      thumbnail: null,
      has_snapshot: false,
      has_clip: false,
      attributes: {},
      current_attributes: [],
      track_id: t.id,
    };
  };

  const material = (prev: FrigateObject, next: FrigateObject, sinceMs: number): boolean => {
    if (prev.label !== next.label || prev.stationary !== next.stationary) return true;
    if (sinceMs >= heartbeatMs) return true;
    if (sinceMs < minUpdateIntervalMs) return false;
    return next.top_score - prev.top_score >= scoreDelta || iou(prev.box, next.box) < moveIou;
  };

  const publish = (s: State, type: TrackEvent['type'], after: FrigateObject, atMs: number): TrackEvent => {
    const before = s.published ?? s.initial ?? after;
    s.published = after;
    s.lastPublishMs = atMs;
    return { type, before, after };
  };

  const end = (s: State): TrackEvent => {
    const t = s.last;
    return publish(s, 'end', objectOf(t, s, t.lastSeenMs, t.lastSeenMs), t.lastSeenMs);
  };

  return {
    onUpdate({ seq, atMs, tracks, ended }) {
      const events: TrackEvent[] = [];
      for (const t of tracks) {
        let s = states.get(t.id);
        const box = frigateBox(t.box);
        if (s === undefined) {
          s = {
            eventId: `${epochSeconds(t.firstSeenMs).toFixed(6)}-${randomId()}`,
            initial: null,
            published: null,
            lastPublishMs: atMs,
            anchor: box,
            motionless: 0,
            motionlessSinceMs: t.lastSeenMs,
            positionChanges: 0,
            last: t,
          };
          states.set(t.id, s);
          // The state before the object became a true positive: Frigate's `before` for `new`.
          s.initial = objectOf(t, s, atMs, null);
        } else if (t.lastSeq === seq) {
          // Frigate: motionless while the box stays on its anchor; moving off a stationary
          // position is a position change and a new anchor.
          if (iou(s.anchor, box) >= stationaryIou) {
            s.motionless++;
          } else {
            if (atMs - s.motionlessSinceMs >= stationaryMs) s.positionChanges++;
            s.motionless = 0;
            s.motionlessSinceMs = atMs;
            s.anchor = box;
          }
        }
        s.last = t;
        // Only a detector run says something new about a track; a coasting track waits.
        if (!t.confirmed || t.lastSeq !== seq) continue;
        const after = objectOf(t, s, atMs, null);
        if (s.published === null) events.push(publish(s, 'new', after, atMs));
        else if (material(s.published, after, atMs - s.lastPublishMs))
          events.push(publish(s, 'update', after, atMs));
      }
      for (const t of ended) {
        const s = states.get(t.id);
        states.delete(t.id);
        if (s?.published == null) continue;
        s.last = t;
        events.push(end(s));
      }
      return events;
    },
    flush() {
      const events: TrackEvent[] = [];
      for (const s of states.values()) if (s.published !== null) events.push(end(s));
      states.clear();
      return events;
    },
    get open() {
      let n = 0;
      for (const s of states.values()) if (s.published !== null) n++;
      return n;
    },
  };
}
