import type { FrameHeader, PolicyMessage, ResultMessage, Stats, Welcome } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { BackoffBounds } from './backoff.ts';
import type { Spool } from './spool.ts';

// The gateway link's public shapes (the link itself: gateway-link.ts).

/** What became of one offload request. */
export type LinkAnswer =
  | { kind: 'result'; result: ResultMessage; rttMs: number }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'timeout'; afterMs: number }
  /** Spooled while the gateway was unreachable, and given up after the spool's time-to-live. */
  | { kind: 'expired'; afterMs: number }
  | { kind: 'unavailable'; reason: string };

/** `reconnecting`: the gateway dropped or never answered; the link is retrying with backoff. */
export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'refused' | 'closed';

export interface LinkStats {
  /** Bytes of every message the agent sent (hellos, frame envelopes and resends, reports). */
  messageBytes: number;
  /** Bytes written to the TCP sockets: messages plus WebSocket framing and the HTTP upgrades. */
  wireBytes: number;
  framesSent: number;
  /** Bytes of the stats reports among `messageBytes`. */
  reportBytes: number;
  /** Connections after the first, and frames sent again after one. */
  reconnects: number;
  resent: number;
  /** Answers that came after their frame's deadline (recorded, never replacing the final result). */
  late: number;
  /** `BUSY` answers, and the holds they started (one per overload, not one per frame shed). */
  busy: number;
  backoffs: number;
  /** Connections that went to another gateway of the list than the last one did. */
  failovers: number;
}

/** What the link did, for tests and tracing; `at` is performance.now(). */
export type LinkTrace =
  | { kind: 'sent'; frameId: string; resend: boolean; gateway: string; at: number }
  /** `heldMs`: the hold this BUSY started, null when it fell in one already started. */
  | { kind: 'busy'; frameId: string; heldMs: number | null; until: number; at: number }
  | { kind: 'dial'; gateway: string; at: number };

export interface GatewayLink {
  readonly state: LinkState;
  /** Why the gateway refused or dropped us, when it did. */
  readonly lastError: string | null;
  readonly welcome: Welcome | null;
  /** The gateway URL in use (or being dialled). */
  readonly gateway: string;
  /**
   * Sends one frame and waits for its answer until the deadline; never rejects. A frame whose
   * connection drops is sent again, under the same id and bytes, once the link is back, to the
   * next gateway of the list (a gateway answers a repeated id once). While no gateway is
   * reachable a frame goes to the spool, if any, and waits up to its time-to-live instead of the
   * deadline. A frame answered `BUSY` is sent again after the link's backoff, if its deadline
   * allows; otherwise it settles as BUSY (the frame keeps its local answer).
   */
  request(
    header: FrameHeader,
    image: Uint8Array,
    options: { deadlineMs: number },
  ): Promise<{ answer: LinkAnswer; bytesSent: number }>;
  stats(): LinkStats;
  /**
   * Sends the agent's running totals, with per-camera stats when given (fire and forget; dropped
   * when the link is down). Camera stats that break the protocol's bounds are left out, and logged once.
   */
  report(stats: Omit<Stats, 'type'>): void;
  close(): Promise<void>;
}

export interface GatewayLinkOptions {
  /** The gateway, or several: the link moves to the next one when the one in use is gone. */
  url: string | readonly string[];
  deviceId: string;
  token: string;
  logger: Logger;
  connectTimeoutMs?: number;
  heartbeatMs?: number;
  /** Largest message accepted from the gateway. */
  maxPayloadBytes?: number;
  /**
   * Exponential backoff between reconnects: base · 2^round, capped, with jitter; a round is one
   * attempt at every gateway of the list (see planReconnect).
   */
  reconnect?: BackoffBounds;
  /** After `BUSY`: nothing is sent for a full-jitter draw in [0, min(max, base · 2^streak)). */
  busyBackoff?: BackoffBounds;
  spool?: Spool | null;
  /** Called when a cloud answer arrives after its frame's final result was written. */
  onLate?: (frameId: string, result: ResultMessage) => void;
  /** Called with each fleet offload bar the gateway sends (issue 13 §5); without it they are ignored. */
  onPolicy?: (message: PolicyMessage) => void;
  trace?: (event: LinkTrace) => void;
  random?: () => number;
}
