import type { Box } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { createTrackEventBuilder } from '../../src/temporal/events.ts';
import type { TrackEvent } from '../../src/temporal/frigate.ts';
import { createSceneEventBuilder } from '../../src/temporal/scene-events.ts';
import { createTracker, type TrackInput } from '../../src/temporal/tracker.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0); // epoch ms of frame 0
const box = (cx: number, cy: number, w = 40, h = 80): Box => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];

/** Runs detections (one list per frame, 200 ms apart) through a tracker and the event builder. */
function run(frames: TrackInput[][], options: Partial<Parameters<typeof createTrackEventBuilder>[0]> = {}) {
  const tracker = createTracker({ maxAge: 3 });
  const builder = createTrackEventBuilder({
    camera: 'lot',
    frame: { width: 456, height: 256 },
    randomId: () => 'abc123',
    ...options,
  });
  const events: { seq: number; event: TrackEvent }[] = [];
  frames.forEach((detections, seq) => {
    const u = tracker.update({ seq, atMs: T0 + seq * 200, detections });
    for (const event of builder.onUpdate(u)) events.push({ seq, event });
  });
  return { events, builder, tracker };
}

describe('track events (Frigate frigate/events shape)', () => {
  it('emits new on confirmation, bounded updates, and end after the track is lost', () => {
    // A car drives right at 10 px a frame for 30 frames (6 s), then leaves.
    const frames: TrackInput[][] = [];
    for (let i = 0; i < 30; i++)
      frames.push([{ box: box(60 + 10 * i, 120, 60, 30), label: 'car', score: 0.6 }]);
    for (let i = 0; i < 5; i++) frames.push([]);
    const { events, builder } = run(frames);
    // Box-move updates at most every 2 s (10 frames); nothing while it coasts (30..32).
    expect(events.map((e) => e.event.type)).toEqual(['new', 'update', 'update', 'end']);
    expect(events.map((e) => e.seq)).toEqual([2, 12, 22, 33]);

    const created = events[0]!.event;
    expect(created.after).toEqual({
      id: `${(T0 / 1000).toFixed(6)}-abc123`,
      camera: 'lot',
      frame_time: (T0 + 400) / 1000,
      snapshot: {
        frame_time: T0 / 1000,
        box: [30, 105, 90, 135],
        area: 1800,
        region: [0, 0, 456, 256],
        score: 0.6,
        attributes: [],
      },
      label: 'car',
      sub_label: null,
      top_score: 0.6,
      false_positive: false,
      start_time: T0 / 1000,
      end_time: null,
      score: 0.6,
      box: [50, 105, 110, 135],
      area: 1800,
      ratio: 2,
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
      track_id: 1,
    });
    // `before` of `new` is the object as first seen, while it was still a possible false positive.
    expect(created.before).toMatchObject({
      id: created.after.id,
      false_positive: true,
      box: [30, 105, 90, 135],
    });

    // Each update's before is the previous message's after; the id never changes.
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.event.before).toEqual(events[i - 1]!.event.after);
      expect(events[i]!.event.after.id).toBe(created.after.id);
    }
    const end = events.at(-1)!.event;
    expect(end.after).toMatchObject({ end_time: (T0 + 29 * 200) / 1000, frame_time: (T0 + 29 * 200) / 1000 });
    expect(events.slice(0, -1).every((e) => e.event.after.end_time === null)).toBe(true);
    expect(builder.open).toBe(0);
  });

  it('publishes nothing for a track that never got confirmed', () => {
    const { events } = run([[{ box: box(100, 100), label: 'person', score: 0.9 }], [], [], [], []]);
    expect(events).toEqual([]);
  });

  it('does not update for a jittering, still object until the heartbeat, then says it became stationary', () => {
    const frames: TrackInput[][] = [];
    // 80 s of a parked car whose box jitters by a pixel and whose score wobbles by 0.02.
    for (let i = 0; i < 400; i++) {
      frames.push([{ box: box(200 + (i % 2), 120, 60, 30), label: 'car', score: 0.6 + 0.02 * (i % 2) }]);
    }
    const { events } = run(frames, { stationaryMs: 10_000, heartbeatMs: 60_000 });
    const updates = events.filter((e) => e.event.type === 'update');
    // 10 s after it stopped moving it turns stationary (frame 50); then one heartbeat 60 s later.
    expect(updates.map((e) => e.seq)).toEqual([50, 350]);
    expect(updates[0]!.event.before.stationary).toBe(false);
    expect(updates[0]!.event.after).toMatchObject({ stationary: true, active: false });
    expect(updates[1]!.event.after.motionless_count).toBeGreaterThan(300);
  });

  it('updates at once on a label change and counts a move off a stationary position', () => {
    const tracker = createTracker({ relabelIou: 0.6 });
    const builder = createTrackEventBuilder({ camera: 'c', stationaryMs: 1_000, randomId: () => 'x' });
    const types: string[] = [];
    const afters: TrackEvent['after'][] = [];
    for (let i = 0; i < 20; i++) {
      const label = i < 10 ? 'car' : 'truck';
      const cx = i < 15 ? 100 : 100 + 10 * (i - 14);
      const u = tracker.update({
        seq: i,
        atMs: T0 + i * 200,
        detections: [{ box: box(cx, 100), label, score: 0.6 }],
      });
      for (const e of builder.onUpdate(u)) {
        types.push(`${i}:${e.type}`);
        afters.push(e.after);
      }
    }
    // new at 2, stationary at 5 (1 s after it was first seen), truck at 10 (immediately), moving
    // again at 16 (at 15 it is 10 px off its anchor, IoU 0.6: not yet a move).
    expect(types).toEqual(['2:new', '5:update', '10:update', '16:update']);
    expect(afters[2]).toMatchObject({ label: 'truck', stationary: true });
    expect(afters[3]).toMatchObject({ stationary: false, position_changes: 1, motionless_count: 0 });
  });

  it('flush() ends every published track (agent shutdown)', () => {
    const frames = [0, 1, 2, 3].map((i) => [{ box: box(100 + i, 100), label: 'dog', score: 0.8 }]);
    const { builder, events } = run(frames);
    expect(events.map((e) => e.event.type)).toEqual(['new']);
    const ends = builder.flush();
    expect(ends.map((e) => [e.type, e.after.end_time])).toEqual([['end', (T0 + 600) / 1000]]);
    expect(builder.flush()).toEqual([]);
  });
});

describe('scene events', () => {
  it('ignores a flicker and reports each lasting change with before and after', () => {
    const scenes = createSceneEventBuilder({ camera: 'door', minFrames: 3 });
    const labels = ['empty', 'empty', 'empty', 'person', 'empty', 'empty', 'car', 'car', 'car', 'car'];
    const out = labels.flatMap((label, seq) =>
      scenes.observe({ seq, atMs: T0 + seq * 1000, label, score: 0.8 }),
    );
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({
      type: 'scene',
      before: null,
      after: {
        camera: 'door',
        label: 'empty',
        score: 0.8,
        seq: 0,
        start_time: T0 / 1000,
        end_time: null,
        frame_time: (T0 + 2000) / 1000,
      },
    });
    expect(out[1]!.before).toMatchObject({ label: 'empty', end_time: (T0 + 6000) / 1000 });
    expect(out[1]!.after).toMatchObject({ label: 'car', seq: 6, start_time: (T0 + 6000) / 1000 });
    expect(scenes.current?.label).toBe('car');
  });

  it('lets low-score frames neither confirm nor break a change', () => {
    const scenes = createSceneEventBuilder({ camera: 'door', minFrames: 2, minScore: 0.5 });
    const frames = [
      { label: 'a', score: 0.9 },
      { label: 'a', score: 0.9 },
      { label: 'b', score: 0.9 },
      { label: 'a', score: 0.1 },
      { label: 'b', score: 0.9 },
    ];
    const out = frames.flatMap((f, seq) => scenes.observe({ seq, atMs: T0 + seq * 1000, ...f }));
    expect(out.map((e) => e.after.label)).toEqual(['a', 'b']);
  });
});
