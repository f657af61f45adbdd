import type { DetectConfig, Detection } from '@squeezegate/shared';
import type { CloudVerdict } from '../detect/cloud-verdict.ts';
import { createTrackEventBuilder } from '../temporal/events.ts';
import type { CameraEvent } from '../temporal/frigate.ts';
import { offloadDue, type SentCrop } from '../temporal/offload-rule.ts';
import { createTracker, type TrackerOptions } from '../temporal/tracker.ts';

/** What tracking decided for one frame's candidates. */
export interface TrackedPlan {
  /** The uncertain detections whose crop goes to the cloud now (one per track, not per frame). */
  verify: Detection[];
  /** Uncertain detections whose track the cloud already judged: that verdict stands. */
  judged: Map<Detection, CloudVerdict>;
  /** The track of each candidate that was tracked. */
  trackOf: Map<Detection, number>;
  events: CameraEvent[];
}

export interface DetectTracking {
  /** Feeds a frame that went through the detector; `verify` is what the frame plan would send. */
  update(
    frame: { seq: number; atMs: number },
    candidates: readonly Detection[],
    verify: readonly Detection[],
  ): TrackedPlan;
  /** A frame the scene gate skipped: only ends tracks that were gone too long. */
  idle(atMs: number): CameraEvent[];
  /** The cloud's verdict on a track's crop, kept for the frames that follow. */
  judge(trackId: number, verdict: CloudVerdict): void;
  /** Ends every open track (shutdown). */
  flush(): CameraEvent[];
  readonly open: number;
  /** A track is still tentative: the detector should keep running so it resolves fast. */
  readonly pending: boolean;
}

/**
 * SORT tracking for the detect task on video: candidates at or above the uncertain band get
 * stable track ids; an uncertain track sends one crop (offloadDue: again only on a new label,
 * a materially different appearance or a much better score) and the cloud's verdict then
 * stands for the track's later frames; confirmed tracks become Frigate-shaped events.
 */
export function createDetectTracking(options: {
  camera: string;
  config: DetectConfig;
  frame: { width: number; height: number };
  tracker?: TrackerOptions;
}): DetectTracking {
  const { camera, config } = options;
  const tracker = createTracker(options.tracker);
  const events = createTrackEventBuilder({ camera, frame: options.frame });
  const sent = new Map<number, SentCrop>();
  const verdicts = new Map<number, CloudVerdict>();
  const band = { low: config.uncertain, high: config.confident };
  const forget = (ended: readonly { id: number }[]) => {
    for (const t of ended) {
      sent.delete(t.id);
      verdicts.delete(t.id);
    }
  };

  return {
    update(frame, candidates, verify) {
      const tracked = candidates.filter((d) => d.score >= config.uncertain);
      const update = tracker.update({ ...frame, detections: tracked });
      forget(update.ended);
      const trackOf = new Map<Detection, number>();
      tracked.forEach((d, k) => {
        const id = update.assignments[k];
        if (id !== undefined) trackOf.set(d, id);
      });
      const byId = new Map(update.tracks.map((t) => [t.id, t]));
      const plan: TrackedPlan = {
        verify: [],
        judged: new Map(),
        trackOf,
        events: events.onUpdate(update),
      };
      for (const d of verify) {
        const id = trackOf.get(d);
        const track = id === undefined ? undefined : byId.get(id);
        if (!track || id === undefined) {
          plan.verify.push(d);
          continue;
        }
        const due = offloadDue(track, sent.get(id), { band });
        if (due.kind === 'send') {
          sent.set(id, due.sent);
          verdicts.delete(id);
          plan.verify.push(d);
        } else {
          const verdict = verdicts.get(id);
          if (verdict) plan.judged.set(d, verdict);
        }
      }
      return plan;
    },
    idle(atMs) {
      const ended = tracker.expire(atMs);
      forget(ended);
      return ended.length > 0 ? events.onUpdate({ seq: -1, atMs, tracks: tracker.tracks, ended }) : [];
    },
    judge(trackId, verdict) {
      // A late answer for a track that has ended since is kept nowhere.
      if (tracker.tracks.some((t) => t.id === trackId)) verdicts.set(trackId, verdict);
    },
    flush: () => events.flush(),
    get open() {
      return events.open;
    },
    get pending() {
      return tracker.pending;
    },
  };
}
