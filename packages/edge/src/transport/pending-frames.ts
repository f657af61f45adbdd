import type { ResultMessage } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { BackoffBounds } from './backoff.ts';
import { createBusyHold } from './busy-hold.ts';
import type { LinkAnswer, LinkStats, LinkTrace } from './link-types.ts';
import type { Spool } from './spool.ts';

/**
 * The frames the link has taken and not yet answered: when each goes on the wire (at once, after a
 * reconnect, after a busy hold), under its id and with its bytes, and what it ends with (the
 * cloud's answer, an error, its deadline, the spool's time-to-live). The connection itself is the
 * link's (gateway-link.ts): it says when frames may be written, and hands over what the gateway
 * answers.
 */
export interface PendingFrames {
  readonly size: number;
  /** Whether a busy hold keeps frames back now. */
  holding(): boolean;
  /**
   * Takes one frame and resolves with its one answer (never rejects). `spooled`: its envelope
   * waits on disk, and it waits up to `waitMs` (the spool's time-to-live) instead of its deadline.
   */
  add(
    frameId: string,
    frame: { envelope: Buffer; spooled: boolean; waitMs: number },
  ): Promise<{ answer: LinkAnswer; bytesSent: number }>;
  /** A cloud answer: settles its frame, or counts it late when the frame already has its result. */
  result(message: ResultMessage): void;
  /** An error answer for one frame; BUSY starts (or falls in) a hold, the frame goes again after it. */
  error(frameId: string, code: string, message: string): void;
  /** Writes every frame that waits, if the link may write now (after a welcome, a hold). */
  flush(): void;
  /** The connection ended: nothing is on the wire any more. */
  disconnected(): void;
  /** Ends every frame with `answer` (the link is closed or refused). */
  settleAll(answer: LinkAnswer): void;
  close(): void;
}

export interface PendingFramesOptions {
  /** Writes an envelope on the live connection; returns its size. */
  write: (frameId: string, envelope: Buffer) => number;
  /** Whether the connection is open for frames (welcomed, socket open). */
  writable: () => boolean;
  /** The gateway URL in use, for the trace. */
  gateway: () => string;
  stats: Pick<LinkStats, 'framesSent' | 'resent' | 'late' | 'busy' | 'backoffs'>;
  busyBackoff: BackoffBounds;
  random: () => number;
  spool: Spool | null;
  log: Logger;
  onLate?: ((frameId: string, result: ResultMessage) => void) | undefined;
  trace?: ((event: LinkTrace) => void) | undefined;
}

interface Pending {
  envelope: Buffer | null;
  spooled: boolean;
  bytesSent: number;
  startedAt: number;
  deadlineAt: number;
  /** On the wire of the live connection, awaiting its answer. */
  onWire: boolean;
  /** The busy hold's epoch when it was last sent. */
  sentEpoch: number;
  /** The last BUSY it was answered, if any: its outcome should the deadline pass meanwhile. */
  busy: string | null;
  /** Counts the transmits begun: one that waited on the spool's disk while another began yields. */
  transmits: number;
  settle: (answer: LinkAnswer) => void;
}

const LATE_MEMORY = 1024;
const HELD_BACK = 'not sent: the gateway answered BUSY and the link is backing off';

export function createPendingFrames(options: PendingFramesOptions): PendingFrames {
  const { write, writable, stats, spool, log, trace } = options;
  const pending = new Map<string, Pending>();
  // Frames that already have their final result: an answer for one of them is late, not unknown.
  const finished: string[] = [];

  const canSend = () => writable() && !hold.holding();

  const transmit = async (frameId: string, p: Pending) => {
    // Marked before the spool is read, so that a flush meanwhile does not send it twice.
    p.onWire = true;
    const mine = ++p.transmits;
    const envelope = p.envelope ?? (p.spooled && spool ? await spool.take(frameId) : null);
    if (mine !== p.transmits) return;
    if (!envelope || !canSend() || pending.get(frameId) !== p) {
      p.onWire = false;
      return;
    }
    const resend = p.bytesSent > 0;
    p.sentEpoch = hold.epoch;
    p.bytesSent += write(frameId, envelope);
    stats.framesSent++;
    if (resend) stats.resent++;
    trace?.({ kind: 'sent', frameId, resend, gateway: options.gateway(), at: performance.now() });
  };

  const flush = () => {
    for (const [frameId, p] of pending) {
      if (!canSend()) return;
      if (!p.onWire) void transmit(frameId, p);
    }
  };

  const hold = createBusyHold({ bounds: options.busyBackoff, random: options.random, onRelease: flush });

  const onBusy = (p: Pending, frameId: string, message: string) => {
    stats.busy++;
    p.onWire = false;
    p.busy = message;
    const heldMs = hold.busy(p.sentEpoch);
    if (heldMs !== null) {
      stats.backoffs++;
      log.debug({ heldMs: Math.round(heldMs), streak: hold.streak }, 'gateway busy; holding frames back');
    }
    trace?.({ kind: 'busy', frameId, heldMs, until: hold.until, at: performance.now() });
    // It would wait past its deadline: it keeps its local answer now, its slot freed at once.
    if (p.deadlineAt <= hold.until) p.settle({ kind: 'error', code: 'BUSY', message });
    else flush();
  };

  return {
    get size() {
      return pending.size;
    },
    holding: () => hold.holding(),
    async add(frameId, { envelope, spooled, waitMs }) {
      const startedAt = performance.now();
      // The gateway shed this device and the hold outlasts the frame: it keeps its local answer now.
      if (!spooled && hold.holding() && startedAt + waitMs <= hold.until)
        return { answer: { kind: 'error', code: 'BUSY', message: HELD_BACK }, bytesSent: 0 };
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (p.busy !== null) settle({ kind: 'error', code: 'BUSY', message: p.busy });
          else if (p.bytesSent === 0 && !spooled && hold.holding())
            settle({ kind: 'error', code: 'BUSY', message: HELD_BACK });
          else settle(spooled ? { kind: 'expired', afterMs: waitMs } : { kind: 'timeout', afterMs: waitMs });
        }, waitMs);
        const settle = (answer: LinkAnswer) => {
          if (pending.get(frameId) !== p) return;
          pending.delete(frameId);
          clearTimeout(timer);
          finished.push(frameId);
          if (finished.length > LATE_MEMORY) finished.shift();
          if (p.spooled) void spool?.remove(frameId);
          resolve({ answer, bytesSent: p.bytesSent });
        };
        const p: Pending = {
          envelope: spooled ? null : envelope,
          spooled,
          bytesSent: 0,
          startedAt,
          deadlineAt: startedAt + waitMs,
          onWire: false,
          sentEpoch: hold.epoch,
          busy: null,
          transmits: 0,
          settle,
        };
        pending.set(frameId, p);
        if (canSend()) void transmit(frameId, p);
      });
    },
    result(message) {
      hold.answered();
      const p = pending.get(message.frameId);
      if (p) p.settle({ kind: 'result', result: message, rttMs: performance.now() - p.startedAt });
      else if (finished.includes(message.frameId)) {
        stats.late++;
        options.onLate?.(message.frameId, message);
      }
    },
    error(frameId, code, message) {
      const p = pending.get(frameId);
      if (!p) return;
      if (code === 'BUSY') onBusy(p, frameId, message);
      else p.settle({ kind: 'error', code, message });
    },
    flush,
    disconnected() {
      for (const p of pending.values()) p.onWire = false;
    },
    settleAll(answer) {
      for (const p of pending.values()) p.settle(answer);
    },
    close() {
      hold.close();
    },
  };
}
