import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fanOut } from '../../src/sinks/event-sink.ts';
import { EventSinkError, openJsonlSink } from '../../src/sinks/jsonl-sink.ts';
import { captureLogger, sceneEvent, trackEvent } from './helpers.ts';

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('JSON-lines event sink', () => {
  it('writes one event per line, in order, and appends when reopened', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-events-'));
    const file = path.join(dir, 'nested', 'events.jsonl');
    const { logger } = captureLogger();
    const sink = await openJsonlSink({ path: file, logger });
    sink.write(trackEvent(1, 'new'));
    sink.write(sceneEvent('empty'));
    sink.write(trackEvent(1, 'end'));
    await sink.close();
    await sink.close(); // idempotent
    sink.write(trackEvent(2)); // after close: counted, not written, not thrown
    expect(sink.stats).toEqual({ written: 4, dropped: 1 });

    const again = await openJsonlSink({ path: file, logger });
    again.write(trackEvent(3, 'new'));
    await again.close();
    const read = await lines(file);
    expect(read.map((e) => `${e.type}:${e.after.track_id ?? e.after.label}`)).toEqual([
      'new:1',
      'scene:empty',
      'end:1',
      'new:3',
    ]);
    expect(read[0]).toEqual(trackEvent(1, 'new'));
  });

  it('fails to open with EventSinkError when the path cannot be a file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-events-'));
    const blocker = path.join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const { logger } = captureLogger();
    const opening = openJsonlSink({ path: path.join(blocker, 'events.jsonl'), logger });
    await expect(opening).rejects.toBeInstanceOf(EventSinkError);
    await expect(opening).rejects.toThrow(/cannot open event file/);
  });

  it('fans out to several sinks and closes them all', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-events-'));
    const { logger } = captureLogger();
    const a = await openJsonlSink({ path: path.join(dir, 'a.jsonl'), logger });
    const b = await openJsonlSink({ path: path.join(dir, 'b.jsonl'), logger });
    const both = fanOut([a, b]);
    both.write(trackEvent(7));
    await both.close();
    expect((await lines(path.join(dir, 'a.jsonl'))).map((e) => e.after.track_id)).toEqual([7]);
    expect((await lines(path.join(dir, 'b.jsonl'))).map((e) => e.after.track_id)).toEqual([7]);
    expect(both.stats).toEqual({ written: 1, dropped: 0 });
  });
});
