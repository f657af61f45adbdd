/**
 * Hands frames from a producer to one consumer. `latest`: one slot, a newer frame overwrites an
 * untaken one (reported through `onDrop`), so a slow consumer never slows the camera and nothing
 * queues up. `queue`: nothing is dropped; the producer reads `size` and stops reading while the
 * consumer is behind (`onTake` tells it when to read again).
 */
export class FrameChannel<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T | null) => void) | null = null;
  private ended = false;

  constructor(
    private readonly options: {
      mode: 'latest' | 'queue';
      onDrop?: (item: T) => void;
      onTake?: () => void;
    },
  ) {}

  get size(): number {
    return this.items.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter(item);
      return;
    }
    if (this.options.mode === 'latest') {
      const old = this.items.shift();
      if (old !== undefined) this.options.onDrop?.(old);
    }
    this.items.push(item);
  }

  /**
   * No more frames. The consumer gets what is already here, then null; with `discard`, it gets
   * null at once and each untaken frame goes to `onDrop`, so none disappears uncounted.
   */
  end({ discard = false }: { discard?: boolean } = {}): void {
    this.ended = true;
    if (discard) {
      for (const item of this.items.splice(0)) this.options.onDrop?.(item);
    }
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(null);
  }

  /** The next frame, or null once ended and empty or when `signal` aborts. */
  take(signal?: AbortSignal): Promise<T | null> {
    // An aborted consumer takes nothing more, not even what is already buffered.
    if (signal?.aborted) return Promise.resolve(null);
    const item = this.items.shift();
    if (item !== undefined) {
      this.options.onTake?.();
      return Promise.resolve(item);
    }
    if (this.ended || signal?.aborted) return Promise.resolve(null);
    if (this.waiter !== null) return Promise.reject(new Error('FrameChannel has one consumer'));
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiter = null;
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (next) => {
        signal?.removeEventListener('abort', onAbort);
        if (next !== null) this.options.onTake?.();
        resolve(next);
      };
    });
  }
}
