import { Worker } from 'node:worker_threads';
import { ModelErrorCode, ModelLoadError, type ModelSpec } from '@squeezegate/shared';
import type { Logger } from 'pino';
import { type BatchItem, type CloudBackend, type ItemResult, isEncodedImage } from './backend.ts';

type FromWorker =
  | { type: 'ready' }
  | { type: 'closed' }
  | { type: 'result'; id: number; logits: Float32Array; undecodable: (string | null)[] }
  | { type: 'error'; id: number; message: string };

/** An item as the worker takes it (ort-worker.mjs). */
type ToWorkerItem = { tensor: Float32Array } | { bytes: Uint8Array; view: string };

interface Answer {
  logits: Float32Array;
  undecodable: (string | null)[];
}

interface Slot {
  worker: Worker;
  released: Promise<void>;
  /** Batches sent and not yet answered. */
  inFlight: number;
  pending: Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>;
}

/**
 * Batches each worker holds at once: one running, one decoding on sharp's threads meanwhile, so
 * decoding overlaps inference (the worker takes runs in turn).
 */
const DEPTH = 2;

export interface LocalBackendOptions {
  spec: ModelSpec;
  /** Verified model file. */
  path: string;
  /** Worker threads, each with its own onnxruntime session. */
  workers: number;
  /** onnxruntime intra-op threads per worker. */
  threads: number;
  logger: Logger;
}

const WORKER_URL = new URL('./ort-worker.mjs', import.meta.url);

/** onnxruntime-node in worker threads, which also decode the images: the event loop only moves bytes. */
export async function createLocalBackend(options: LocalBackendOptions): Promise<CloudBackend> {
  const { spec, path, workers, threads } = options;
  const log = options.logger.child({ component: 'local-backend' });
  const size = spec.preprocess.centerCrop;
  const classes = Number(spec.output.shape[1]);
  let nextId = 0;
  let closing = false;

  const spawn = () =>
    new Promise<Slot>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, {
        workerData: {
          modelPath: path,
          inputName: spec.input.name,
          outputName: spec.output.name,
          threads,
          size,
          preprocess: spec.preprocess,
        },
      });
      let onClosed = () => {};
      const released = new Promise<void>((r) => {
        onClosed = r;
      });
      const slot: Slot = { worker, released, inFlight: 0, pending: new Map() };
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            resolve(slot);
            return;
          case 'closed':
            onClosed();
            return;
          case 'result':
            slot.pending.get(msg.id)?.resolve(msg);
            slot.pending.delete(msg.id);
            return;
          case 'error':
            slot.pending.get(msg.id)?.reject(new Error(msg.message));
            slot.pending.delete(msg.id);
            return;
        }
      });
      worker.on('error', (err) => {
        log.error({ err }, 'inference worker failed');
        reject(
          new ModelLoadError(ModelErrorCode.LOAD, path, `inference worker failed: ${err.message}`, {
            cause: err,
          }),
        );
      });
      worker.on('exit', (code) => {
        for (const p of slot.pending.values()) p.reject(new Error(`inference worker exited with ${code}`));
        slot.pending.clear();
        const i = slots.indexOf(slot);
        if (closing || i < 0) return;
        // A worker that dies is replaced, so one bad batch does not take the gateway's cloud down.
        log.warn({ code }, 'inference worker exited, starting another');
        spawn().then(
          (fresh) => {
            slots[i] = fresh;
          },
          (err: unknown) => log.error({ err }, 'could not restart inference worker'),
        );
      });
    });

  const slots: Slot[] = [];
  for (let i = 0; i < workers; i++) slots.push(await spawn());
  log.info({ workers, threads, model: spec.id }, 'inference workers ready');

  const runItems = async (items: readonly BatchItem[]): Promise<ItemResult[]> => {
    if (closing) throw new Error('backend closed');
    // The least loaded worker; the batcher never has more than DEPTH batches per worker out.
    const slot = slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    // Copies the exact bytes (a Buffer may be a view into a larger pooled one) and moves them.
    const message = items.map(
      (x): ToWorkerItem =>
        isEncodedImage(x) ? { bytes: new Uint8Array(x.bytes), view: x.view } : { tensor: x.slice() },
    );
    // Fresh copies: their buffers are plain ArrayBuffers, never shared.
    const transfer = message.map((m) => ('tensor' in m ? m.tensor.buffer : m.bytes.buffer) as ArrayBuffer);
    const id = nextId++;
    slot.inFlight++;
    try {
      const answer = await new Promise<Answer>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ type: 'run', id, items: message }, transfer);
      });
      let k = 0;
      return answer.undecodable.map((why): ItemResult => {
        if (why !== null && why !== undefined) return { ok: false, undecodable: why };
        const logits = answer.logits.slice(k * classes, (k + 1) * classes);
        k++;
        return { ok: true, logits };
      });
    } finally {
      slot.inFlight--;
    }
  };

  return {
    spec,
    concurrency: workers * DEPTH,
    runItems,
    async run(inputs) {
      const results = await runItems(inputs);
      return results.map((r) => {
        if (!r.ok) throw new Error(r.undecodable);
        return r.logits;
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all(
        slots.map(async (s) => {
          // Let the worker release its session, but never wait on a stuck one for long.
          s.worker.postMessage({ type: 'close' });
          await Promise.race([s.released, new Promise((r) => setTimeout(r, 2000).unref())]);
          await s.worker.terminate();
        }),
      );
    },
  };
}
