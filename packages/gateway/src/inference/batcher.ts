import type {
  BatchItem,
  CloudBackend,
  EncodedImage,
  ImageOutcome,
  InferOutcome,
  ItemResult,
} from './backend.ts';

export interface BatcherOptions {
  backend: CloudBackend;
  /** Largest batch handed to the backend (1 = batching off). */
  maxBatch: number;
  /** How long the first queued item may wait for others to join its batch. */
  maxQueueDelayMs: number;
  /** Items waiting beyond this are refused as busy instead of queued. */
  maxQueue: number;
  onBatch?: (size: number, inferMs: number) => void;
}

export interface BatcherStats {
  queued: number;
  running: number;
  batches: number;
  items: number;
  busy: number;
}

export interface Batcher {
  /** Queues one preprocessed tensor; resolves when its batch ran, or at once with `busy`. */
  submit(input: Float32Array): Promise<InferOutcome>;
  /**
   * Whether the backend decodes images itself (`submitImage`); otherwise callers decode and
   * `submit` the tensor.
   */
  readonly decodesImages: boolean;
  /** Queues one encoded image, decoded in the backend with the rest of its batch. */
  submitImage(image: EncodedImage): Promise<ImageOutcome>;
  /** Whether a submit now would be queued (callers skip decoding frames that would be shed). */
  hasRoom(): boolean;
  /** Refuses one item as busy without queueing it (counted like a refused submit). */
  shed(): InferOutcome;
  stats(): BatcherStats;
  /** Stops taking work; resolves once every queued and running item has its outcome. */
  drain(): Promise<void>;
}

interface Pending {
  input: BatchItem;
  enqueuedAt: number;
  resolve: (outcome: ImageOutcome) => void;
}

/**
 * Dynamic batching in the manner of Triton: items queue; a batch goes to the backend when it is
 * full (`maxBatch`) or when its oldest item has waited `maxQueueDelayMs`, as soon as the backend
 * has a free slot. The queue is bounded: past `maxQueue` an item is answered `busy` at once,
 * so overload sheds explicitly instead of growing memory.
 */
export function createBatcher(options: BatcherOptions): Batcher {
  const { backend, maxBatch, maxQueueDelayMs, maxQueue } = options;
  const queue: Pending[] = [];
  let running = 0;
  let timer: NodeJS.Timeout | null = null;
  let draining: Promise<void> | null = null;
  let idle: (() => void) | null = null;
  const stats = { batches: 0, items: 0, busy: 0 };

  const shed = (): InferOutcome => {
    stats.busy++;
    return { kind: 'busy', queued: queue.length };
  };

  const pump = () => {
    while (running < backend.concurrency && queue.length > 0) {
      const oldest = queue[0]!;
      const waited = performance.now() - oldest.enqueuedAt;
      if (queue.length < maxBatch && waited < maxQueueDelayMs && draining === null) {
        timer ??= setTimeout(() => {
          timer = null;
          pump();
        }, maxQueueDelayMs - waited);
        return;
      }
      dispatch(queue.splice(0, maxBatch));
    }
    if (running === 0 && queue.length === 0) idle?.();
  };

  const dispatch = (batch: Pending[]) => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    running++;
    const started = performance.now();
    const inputs = batch.map((p) => p.input);
    // Images go to a backend that decodes them; without one, submitImage refuses, so all are tensors.
    const ran: Promise<readonly (ItemResult | Float32Array | undefined)[]> = backend.runItems
      ? backend.runItems(inputs)
      : backend.run(inputs as Float32Array[]);
    ran
      .then(
        (outputs) => {
          const inferMs = performance.now() - started;
          const size = outputs.filter((o) => o instanceof Float32Array || o?.ok === true).length;
          if (size > 0) {
            stats.batches++;
            stats.items += size;
            options.onBatch?.(size, inferMs);
          }
          batch.forEach((p, i) => {
            const out = outputs[i];
            const logits = out instanceof Float32Array ? out : out?.ok ? out.logits : undefined;
            p.resolve(
              logits
                ? { kind: 'ok', logits, batchSize: size, queueMs: started - p.enqueuedAt, inferMs }
                : out && !(out instanceof Float32Array) && !out.ok
                  ? { kind: 'undecodable', message: out.undecodable }
                  : {
                      kind: 'failed',
                      message: `backend returned ${outputs.length} outputs for ${batch.length} inputs`,
                    },
            );
          });
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          for (const p of batch) p.resolve({ kind: 'failed', message });
        },
      )
      .finally(() => {
        running--;
        pump();
      });
  };

  const enqueue = (input: BatchItem): Promise<ImageOutcome> => {
    if (draining !== null || queue.length >= maxQueue) return Promise.resolve(shed());
    return new Promise<ImageOutcome>((resolve) => {
      queue.push({ input, enqueuedAt: performance.now(), resolve });
      pump();
    });
  };

  return {
    // A tensor is never undecodable: its outcome is an InferOutcome.
    submit: (input) => enqueue(input) as Promise<InferOutcome>,
    decodesImages: backend.runItems !== undefined,
    submitImage(image) {
      if (!backend.runItems) return Promise.reject(new Error('this backend takes tensors: decode first'));
      return enqueue(image);
    },
    hasRoom: () => draining === null && queue.length < maxQueue,
    shed,
    stats: () => ({ queued: queue.length, running, ...stats }),
    drain() {
      draining ??= new Promise<void>((resolve) => {
        idle = resolve;
        pump();
      });
      return draining;
    },
  };
}
