import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import type { SceneEvent, TrackEvent } from '../../src/temporal/frigate.ts';

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger that keeps its records, to assert on what a sink logged. */
export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** Polls `check` until it is truthy; fails with `what` after a generous deadline. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  { what, deadlineMs = 20_000, everyMs = 20 }: { what: string; deadlineMs?: number; everyMs?: number },
): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A Frigate-shaped track event numbered `n` (its track id), for order checks. */
export function trackEvent(n: number, type: TrackEvent['type'] = 'new'): TrackEvent {
  const after: TrackEvent['after'] = {
    id: `1714564800.000000-ev${String(n).padStart(4, '0')}`,
    camera: 'lot',
    frame_time: 1714564800 + n,
    snapshot: {
      frame_time: 1714564800,
      box: [1, 2, 30, 40],
      area: 1064,
      region: [0, 0, 456, 256],
      score: 0.5,
      attributes: [],
    },
    label: 'car',
    sub_label: null,
    top_score: 0.5,
    false_positive: false,
    start_time: 1714564800,
    end_time: type === 'end' ? 1714564800 + n : null,
    score: 0.5,
    box: [1, 2, 30, 40],
    area: 1064,
    ratio: 0.7632,
    region: [0, 0, 456, 256],
    active: true,
    stationary: false,
    motionless_count: 0,
    position_changes: 0,
    current_zones: [],
    entered_zones: [],
    thumbnail: null,
    has_snapshot: false,
    has_clip: false,
    attributes: {},
    current_attributes: [],
    track_id: n,
  };
  return { type, before: { ...after, false_positive: type === 'new' }, after };
}

export function sceneEvent(label: string, camera = 'door'): SceneEvent {
  return {
    type: 'scene',
    before: null,
    after: {
      camera,
      label,
      score: 0.9,
      seq: 0,
      start_time: 1714564800,
      end_time: null,
      frame_time: 1714564801,
    },
  };
}
