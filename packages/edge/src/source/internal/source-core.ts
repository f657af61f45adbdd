import type { RawImage } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { CapturedFrame, Gap, SourceHooks, SourceStats } from '../frame-source.ts';
import { FrameChannel } from './frame-channel.ts';

/** Gaps kept in `stats()`: a camera that runs for months keeps the most recent ones. */
const MAX_GAPS = 100;

export interface SourceCoreOptions extends SourceHooks {
  camera: string;
  live: boolean;
  logger: Logger;
  clock: () => number;
  /** Called after the consumer took a frame (queue mode: time to read again). */
  onTake?: () => void;
}

/** What every camera source shares: numbering, counters, gaps, the hand-off to the consumer. */
export class SourceCore {
  readonly camera: string;
  readonly live: boolean;
  readonly log: Logger;
  readonly clock: () => number;
  readonly channel: FrameChannel<CapturedFrame>;
  lastError: Error | null = null;
  restarts = 0;
  private seq = 0;
  private decoded = 0;
  private dropped = 0;
  private readonly gaps: Gap[] = [];
  /** Every closed gap's length, added up (the list keeps only the latest gaps). */
  private closedGapMs = 0;
  private openGap: Gap | null = null;
  private iterated = false;
  private readonly hooks: SourceHooks;

  constructor(options: SourceCoreOptions) {
    this.camera = options.camera;
    this.live = options.live;
    this.log = options.logger;
    this.clock = options.clock;
    this.hooks = { onDrop: options.onDrop, onGap: options.onGap };
    const channelOptions: ConstructorParameters<typeof FrameChannel<CapturedFrame>>[0] = {
      mode: options.live ? 'latest' : 'queue',
      onDrop: (frame) => {
        this.dropped += 1;
        this.call(() => this.hooks.onDrop?.(frame), 'onDrop');
      },
    };
    if (options.onTake) channelOptions.onTake = options.onTake;
    this.channel = new FrameChannel(channelOptions);
  }

  /**
   * Numbers a frame read at `capturedAt` (default now) and hands it on; the first frame after an
   * outage closes its gap.
   */
  emit(raw: RawImage, ptsMs: number | null, capturedAt = this.clock()): CapturedFrame {
    const seq = this.seq++;
    const name = ptsMs === null ? `${this.camera}-${seq}` : `${this.camera}-${ptsMs}`;
    const frame: CapturedFrame = {
      camera: this.camera,
      seq,
      capturedAt,
      ptsMs,
      name,
      truth: null,
      image: { kind: 'raw', raw },
    };
    this.decoded += 1;
    this.closeGap(capturedAt);
    this.channel.push(frame);
    return frame;
  }

  /** Opens a gap unless one is open already (one outage, however many restarts it takes). */
  openGapAt(from: number, reason: string): void {
    if (this.openGap !== null) return;
    const gap: Gap = { from, to: null, reason };
    this.openGap = gap;
    this.gaps.push(gap);
    if (this.gaps.length > MAX_GAPS) this.gaps.shift();
    this.call(() => this.hooks.onGap?.({ ...gap }), 'onGap');
  }

  closeGap(to: number): void {
    const gap = this.openGap;
    if (gap === null) return;
    gap.to = to;
    this.closedGapMs += Math.max(0, to - gap.from);
    this.openGap = null;
    this.log.info({ gap: { ...gap }, ms: to - gap.from }, 'camera frames resumed');
    this.call(() => this.hooks.onGap?.({ ...gap }), 'onGap');
  }

  stats(): SourceStats {
    return {
      decoded: this.decoded,
      dropped: this.dropped,
      restarts: this.restarts,
      gaps: this.gaps.map((g) => ({ ...g })),
      closedGapMs: this.closedGapMs,
    };
  }

  /** The one iteration of a source: starts it on the first pull, closes it when the loop ends. */
  async *iterate(
    signal: AbortSignal | undefined,
    start: () => void,
    close: () => Promise<void>,
  ): AsyncGenerator<CapturedFrame> {
    if (this.iterated) throw new Error(`camera ${this.camera}: frames() can be iterated once`);
    this.iterated = true;
    try {
      if (signal?.aborted) return;
      start();
      for (;;) {
        const frame = await this.channel.take(signal);
        if (frame === null) return;
        yield frame;
      }
    } finally {
      await close();
    }
  }

  private call(fn: () => void, hook: string): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, hook }, 'camera callback threw');
    }
  }
}
