import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, device, frame, jpeg, startGateway } from './harness.ts';

describe('a frame sent again under the same id is answered once', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(() => stop?.());
  const start = async (settings: Record<string, unknown> = {}) => {
    const started = await startGateway({ adminToken: ADMIN, ...settings });
    stop = () => started.gateway.close();
    return started;
  };

  it('resends the kept answer to a repeat on a new connection, without inference or counting', async () => {
    const { gateway, backend } = await start();
    const image = await jpeg(10);
    const first = await device(gateway.edgeUrl);
    first.ws.send(frame('f-1', image));
    const [, answer] = await first.received(2);
    expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
    expect(answer?.top?.[0]?.index).toBe(1);
    first.ws.terminate();

    const again = await device(gateway.edgeUrl);
    again.ws.send(frame('f-1', image));
    again.ws.send(frame('f-2', image));
    const [, repeat, next] = await again.received(3);
    expect(repeat).toEqual(answer);
    expect(next).toMatchObject({ type: 'result', frameId: 'f-2' });
    expect(next?.top?.[0]?.index).toBe(2);
    expect(backend.inferences()).toBe(2);
    expect(gateway.counters()).toMatchObject({ framesIn: 2, results: 2, errors: 0, duplicates: 1 });
    expect(gateway.monitor.snapshot().devices[0]).toMatchObject({ deviceId: 'cam-1', answered: 2 });
    const metrics = await (
      await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    expect(metrics).toMatch(/^squeezegate_frames_total\{outcome="ok"\} 2$/m);
    expect(metrics).toMatch(/^squeezegate_duplicate_frames_total 1$/m);
    again.ws.close();
  });

  it('a repeat of a frame still in flight waits for the same answer, sent to the new socket', async () => {
    const { gateway, backend } = await start();
    const image = await jpeg(20);
    backend.hold();
    const first = await device(gateway.edgeUrl);
    first.ws.send(frame('f-1', image));
    await until(() => gateway.batching().running === 1);
    // The agent loses its connection and sends the frame again on a new one.
    first.ws.terminate();
    await first.closed;
    const second = await device(gateway.edgeUrl);
    second.ws.send(frame('f-1', image));
    await until(() => gateway.counters().duplicates === 1);
    backend.release();
    const [, answer] = await second.received(2);
    expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
    expect(answer?.top?.[0]?.index).toBe(1);
    expect(backend.inferences()).toBe(1);
    expect(gateway.counters()).toMatchObject({ framesIn: 1, results: 1 });
    second.ws.close();
  });

  it('does not keep BUSY: the frame sent again later is classified', async () => {
    const { gateway, backend } = await start({ maxQueue: 1, maxBatch: 1 });
    backend.hold();
    const edge = await device(gateway.edgeUrl);
    // One frame runs, one waits in the queue, the third finds the queue full.
    edge.ws.send(frame('f-1', await jpeg(1)));
    await until(() => gateway.batching().running === 1);
    edge.ws.send(frame('f-2', await jpeg(2)));
    await until(() => gateway.batching().queued === 1);
    edge.ws.send(frame('f-3', await jpeg(3)));
    const [, busy] = await edge.received(2);
    expect(busy).toMatchObject({ type: 'error', code: 'BUSY', frameId: 'f-3' });
    backend.release();
    await edge.received(4);
    edge.ws.send(frame('f-3', await jpeg(3)));
    const answers = await edge.received(5);
    expect(answers[4]).toMatchObject({ type: 'result', frameId: 'f-3' });
    expect(answers[4]?.top?.[0]?.index).toBe(3);
    expect(gateway.counters()).toMatchObject({ framesIn: 4, duplicates: 0 });
    edge.ws.close();
  });

  it('keeps an undecodable image as its answer, and classifies other bytes under a reused id', async () => {
    const { gateway, backend } = await start();
    const edge = await device(gateway.edgeUrl);
    const garbage = Buffer.from('not a jpeg at all');
    edge.ws.send(frame('f-bad', garbage));
    await edge.received(2);
    edge.ws.send(frame('f-bad', garbage));
    const [, bad, repeat] = await edge.received(3);
    expect(bad).toMatchObject({ type: 'error', code: 'IMAGE_UNDECODABLE', frameId: 'f-bad' });
    expect(repeat).toEqual(bad);
    // An agent that restarted counts its ids from zero again: other bytes are another frame.
    edge.ws.send(frame('f-bad', await jpeg(50)));
    const answers = await edge.received(4);
    expect(answers[3]).toMatchObject({ type: 'result', frameId: 'f-bad' });
    expect(backend.inferences()).toBe(1);
    expect(gateway.counters()).toMatchObject({ framesIn: 2, duplicates: 1 });
    edge.ws.close();
  });

  it('remembers answers per device, the least recently used going first', async () => {
    const { gateway, backend } = await start({ answerCacheSize: 2 });
    const image = await jpeg(5);
    const one = await device(gateway.edgeUrl, 'cam-1');
    const two = await device(gateway.edgeUrl, 'cam-2');
    // The same frame id from two devices is two frames.
    one.ws.send(frame('f-1', image));
    await one.received(2);
    two.ws.send(frame('f-1', image));
    await two.received(2);
    expect(backend.inferences()).toBe(2);
    one.ws.send(frame('f-2', image));
    await one.received(3);
    one.ws.send(frame('f-1', image)); // a repeat: f-1 becomes the most recently used
    await one.received(4);
    one.ws.send(frame('f-3', image)); // evicts f-2
    await one.received(5);
    one.ws.send(frame('f-1', image)); // still kept
    one.ws.send(frame('f-2', image)); // forgotten: classified again
    const answers = await one.received(7);
    expect(answers.slice(1).map((a) => [a.frameId, a.top?.[0]?.index])).toEqual([
      ['f-1', 1],
      ['f-2', 3],
      ['f-1', 1],
      ['f-3', 4],
      ['f-1', 1],
      ['f-2', 5],
    ]);
    one.ws.close();
    two.ws.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
