import type { CameraStats, CameraEvent as WireEvent } from '@squeezegate/shared';
import type { FrameSource } from '../source/frame-source.ts';
import type { CameraEvent } from '../temporal/frigate.ts';

const MAX_EVENTS = 10;

/** A camera's counts as operators see them (stats message, /metrics, dashboard, summary). */
export interface CameraCounter {
  readonly id: string;
  /** Tallies one final record of this camera. */
  count(decision: { kind: string; by?: string }): void;
  /** Keeps one of this camera's events among the latest. */
  event(event: CameraEvent): void;
  /** Tracks open now (the detect task on video). */
  tracksOpen: () => number;
  stats(): CameraStats;
}

export type CameraSourceKind = CameraStats['source'];

/** Which kind of source a camera reads, as the stats message names it (never the URL). */
export function sourceKind(source: string): CameraSourceKind {
  if (/^rtsps?:\/\//i.test(source)) return 'rtsp';
  if (/^https?:\/\//i.test(source)) return 'http';
  if (/^\/dev\/video\d+$/.test(source)) return 'v4l2';
  return /\.(mp4|mkv|avi|mov)$/i.test(source) ? 'file' : 'folder';
}

function wireEvent(e: CameraEvent): WireEvent {
  if (e.type === 'scene')
    return { type: 'scene', label: e.after.label, trackId: null, at: e.after.frame_time * 1000 };
  return {
    type: e.type,
    label: e.after.label,
    trackId: e.after.id,
    at: Math.round(e.after.frame_time * 1000),
  };
}

/**
 * Counts one camera's frames from its records: analysed (every frame the agent decided),
 * inferred (went through the model), reused (the gate or a track's earlier answer), dropped (a
 * live camera's newer frame replaced it); decoded, restarts and gaps come from its source.
 */
export function createCameraCounter(options: {
  id: string;
  kind: CameraStats['source'];
  source: () => FrameSource | null;
  now?: () => number;
}): CameraCounter {
  const now = options.now ?? Date.now;
  const counts = { analysed: 0, inferred: 0, reused: 0, dropped: 0 };
  const events: WireEvent[] = [];
  const counter: CameraCounter = {
    id: options.id,
    count(decision) {
      const { kind } = decision;
      if (kind === 'dropped') counts.dropped++;
      else counts.analysed++;
      // Reused by the gate: the model did not run. Reused for its scene: it ran, the cloud was not asked.
      if (kind === 'reused' && decision.by === 'gate') counts.reused++;
      else if (kind === 'local' || kind === 'offload' || kind === 'reused') counts.inferred++;
    },
    event(e) {
      events.push(wireEvent(e));
      if (events.length > MAX_EVENTS) events.shift();
    },
    tracksOpen: () => 0,
    stats() {
      const source = options.source()?.stats();
      const open = source?.gaps.find((g) => g.to === null);
      const gapMs = (source?.closedGapMs ?? 0) + (open ? now() - open.from : 0);
      return {
        id: options.id,
        source: options.kind,
        decoded: source?.decoded ?? counts.analysed + counts.dropped,
        analysed: counts.analysed,
        inferred: counts.inferred,
        reused: counts.reused,
        dropped: counts.dropped,
        restarts: source?.restarts ?? 0,
        gapMs: Math.max(0, gapMs),
        tracksOpen: counter.tracksOpen(),
        events: [...events],
      };
    },
  };
  return counter;
}
