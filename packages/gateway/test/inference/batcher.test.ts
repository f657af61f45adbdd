import { type CloudBackend, createBatcher } from '@squeezegate/gateway';
import { MODELS } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

/** A backend that records its batches and answers logits = [input[0], batch size]. */
function fakeBackend(options: { concurrency?: number; delayMs?: number; fail?: boolean } = {}) {
  const batches: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const backend: CloudBackend = {
    spec: MODELS[2],
    concurrency: options.concurrency ?? 1,
    async run(inputs) {
      batches.push(inputs.length);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, options.delayMs ?? 5));
      running--;
      if (options.fail) throw new Error('model exploded');
      return inputs.map((x) => Float32Array.of(x[0]!, inputs.length));
    },
    async close() {},
  };
  return { backend, batches, maxRunning: () => maxRunning };
}

const tensor = (v: number) => Float32Array.of(v);

describe('dynamic batcher', () => {
  it('fills batches up to maxBatch while the backend is busy, and answers each item its own output', async () => {
    const { backend, batches } = fakeBackend({ delayMs: 20 });
    const batcher = createBatcher({ backend, maxBatch: 4, maxQueueDelayMs: 1, maxQueue: 100 });
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(tensor(i))));
    outcomes.forEach((o, i) => {
      expect(o.kind).toBe('ok');
      if (o.kind === 'ok') {
        expect(o.logits[0]).toBe(i);
        expect(o.logits[1]).toBe(o.batchSize);
      }
    });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...batches)).toBe(4);
    expect(batcher.stats()).toMatchObject({
      batches: batches.length,
      items: 10,
      busy: 0,
      queued: 0,
      running: 0,
    });
  });

  it('waits at most maxQueueDelayMs for a batch to fill', async () => {
    const { backend, batches } = fakeBackend({ delayMs: 1 });
    const batcher = createBatcher({ backend, maxBatch: 8, maxQueueDelayMs: 30, maxQueue: 100 });
    const started = performance.now();
    const outcome = await batcher.submit(tensor(1));
    const waited = performance.now() - started;
    expect(outcome).toMatchObject({ kind: 'ok', batchSize: 1 });
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(batches).toEqual([1]);
  });

  it('with maxBatch 1 runs every item alone, up to the backend concurrency at once', async () => {
    const fake = fakeBackend({ concurrency: 2, delayMs: 10 });
    const batcher = createBatcher({ backend: fake.backend, maxBatch: 1, maxQueueDelayMs: 0, maxQueue: 100 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => batcher.submit(tensor(i))));
    expect(fake.batches).toEqual([1, 1, 1, 1, 1, 1]);
    expect(fake.maxRunning()).toBe(2);
  });

  it('sheds explicitly when the queue is full: busy at once, nothing lost', async () => {
    const { backend } = fakeBackend({ delayMs: 20 });
    const batcher = createBatcher({ backend, maxBatch: 2, maxQueueDelayMs: 0, maxQueue: 3 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.submit(tensor(i))));
    const ok = outcomes.filter((o) => o.kind === 'ok').length;
    const busy = outcomes.filter((o) => o.kind === 'busy').length;
    expect(ok + busy).toBe(20);
    expect(busy).toBeGreaterThan(10);
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(batcher.stats().busy).toBe(busy);
  });

  it('answers failed (not throw) when the backend fails', async () => {
    const { backend } = fakeBackend({ fail: true });
    const batcher = createBatcher({ backend, maxBatch: 4, maxQueueDelayMs: 0, maxQueue: 10 });
    expect(await batcher.submit(tensor(1))).toEqual({ kind: 'failed', message: 'model exploded' });
  });

  it('drain finishes queued work, then refuses new work as busy', async () => {
    const { backend } = fakeBackend({ delayMs: 10 });
    const batcher = createBatcher({ backend, maxBatch: 2, maxQueueDelayMs: 50, maxQueue: 10 });
    const pending = [1, 2, 3].map((v) => batcher.submit(tensor(v)));
    await batcher.drain();
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o.kind === 'ok')).toBe(true);
    expect((await batcher.submit(tensor(4))).kind).toBe('busy');
  });
});
