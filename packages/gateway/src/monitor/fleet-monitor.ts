import type { ClassScore, Stats } from '@squeezegate/shared';

/**
 * One camera of a device, as its agent last reported it (the protocol's CameraStats: running
 * totals since the agent started, open tracks, the latest events).
 */
export type CameraView = NonNullable<Stats['cameras']>[number];

/** One connected (or recently seen) device, as the operator sees it. */
export interface DeviceView {
  deviceId: string;
  connected: boolean;
  connectedAt: number;
  lastSeen: number;
  /** From the edge's own reports: every frame it captured, and how many it offloaded. */
  frames: number;
  offloaded: number;
  offloadRate: number;
  capturedBytes: number;
  sentBytes: number;
  /** Bytes not sent, against sending every frame as captured. */
  bytesSaved: number;
  /** Frames the gateway answered for this device, and their latency at the gateway (queue + inference). */
  answered: number;
  latencyMs: { p50: number | null; p95: number | null };
  /** Per camera, from the last report; empty for an agent that sends none. */
  cameras: readonly CameraView[];
}

/** One offloaded frame: what the edge said and what the cloud said. */
export interface DecisionView {
  at: number;
  deviceId: string;
  frameId: string;
  local: ClassScore | null;
  cloud: ClassScore | null;
  /** 'ok', or why there is no cloud answer (BUSY, IMAGE_UNDECODABLE, …). */
  status: string;
  latencyMs: number;
}

export interface FleetSnapshot {
  at: number;
  devices: DeviceView[];
  recent: DecisionView[];
}

export interface FleetMonitor {
  deviceConnected(deviceId: string): void;
  deviceDisconnected(deviceId: string): void;
  reportStats(deviceId: string, stats: Stats): void;
  frameAnswered(decision: Omit<DecisionView, 'at'>): void;
  /**
   * The fleet: this gateway's devices and, with shared state (state/redis-fleet.ts), those of the
   * other replicas. A device seen by several replicas (it moved) is shown as the one it is
   * connected to, else the one that saw it last.
   */
  snapshot(): FleetSnapshot;
  /** This gateway's devices and decisions only: what it publishes to the other replicas. */
  local(): FleetSnapshot;
  /** What the other replicas published; replaces the previous view of them. */
  setPeers(peers: PeerView): void;
  /** Called on every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** What happened, one event at a time (events/ publishes them); returns the unsubscribe function. */
  onEvent(listener: (event: FleetEvent) => void): () => void;
}

/** A device's state changed, or one of its frames was answered, on this gateway. */
export type FleetEvent =
  | { kind: 'connected' | 'disconnected'; deviceId: string; at: number }
  | { kind: 'answered'; decision: DecisionView };

/** The other replicas' devices and decisions. */
export interface PeerView {
  devices: readonly DeviceView[];
  recent: readonly DecisionView[];
}

const RECENT = 50;

/** The device view to show of two (one device seen by two replicas). */
const fresher = (a: DeviceView, b: DeviceView) =>
  a.connected !== b.connected ? (a.connected ? a : b) : a.lastSeen >= b.lastSeen ? a : b;
const LATENCY_WINDOW = 200;

function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/** What the dashboard shows: per-device totals and the last decisions, kept in memory, bounded. */
export function createFleetMonitor(options: { now?: () => number } = {}): FleetMonitor {
  const now = options.now ?? Date.now;
  const devices = new Map<
    string,
    Omit<DeviceView, 'offloadRate' | 'bytesSaved' | 'latencyMs'> & { latencies: number[] }
  >();
  const recent: DecisionView[] = [];
  let peers: PeerView = { devices: [], recent: [] };
  let peersJson = '';
  const listeners = new Set<() => void>();
  const eventListeners = new Set<(event: FleetEvent) => void>();
  const emit = (event: FleetEvent) => {
    for (const l of eventListeners) l(event);
  };
  const changed = () => {
    for (const l of listeners) l();
  };
  const device = (deviceId: string) => {
    let d = devices.get(deviceId);
    if (!d) {
      d = {
        deviceId,
        connected: false,
        connectedAt: now(),
        lastSeen: now(),
        frames: 0,
        offloaded: 0,
        capturedBytes: 0,
        sentBytes: 0,
        answered: 0,
        cameras: [],
        latencies: [],
      };
      devices.set(deviceId, d);
    }
    d.lastSeen = now();
    return d;
  };
  const localSnapshot = (): FleetSnapshot => ({
    at: now(),
    devices: [...devices.values()].map(({ latencies, ...d }) => ({
      ...d,
      offloadRate: d.frames ? d.offloaded / d.frames : 0,
      bytesSaved: d.capturedBytes - d.sentBytes,
      latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
    })),
    recent: [...recent],
  });
  return {
    deviceConnected(deviceId) {
      const d = device(deviceId);
      d.connected = true;
      d.connectedAt = now();
      changed();
      emit({ kind: 'connected', deviceId, at: d.connectedAt });
    },
    deviceDisconnected(deviceId) {
      device(deviceId).connected = false;
      changed();
      emit({ kind: 'disconnected', deviceId, at: now() });
    },
    reportStats(deviceId, stats) {
      Object.assign(device(deviceId), {
        frames: stats.frames,
        offloaded: stats.offloaded,
        capturedBytes: stats.capturedBytes,
        sentBytes: stats.sentBytes,
        // The last report is the truth: one without cameras means the agent has none now.
        cameras: stats.cameras ?? [],
      });
      changed();
    },
    frameAnswered(decision) {
      const d = device(decision.deviceId);
      d.answered++;
      d.latencies.push(decision.latencyMs);
      if (d.latencies.length > LATENCY_WINDOW) d.latencies.shift();
      const answered = { ...decision, at: now() };
      recent.unshift(answered);
      if (recent.length > RECENT) recent.pop();
      emit({ kind: 'answered', decision: answered });
      changed();
    },
    snapshot() {
      const own = localSnapshot();
      if (peers.devices.length === 0 && peers.recent.length === 0) return own;
      const byId = new Map(own.devices.map((d) => [d.deviceId, d]));
      for (const d of peers.devices) {
        const o = byId.get(d.deviceId);
        byId.set(d.deviceId, o ? fresher(o, d) : d);
      }
      return {
        at: own.at,
        devices: [...byId.values()],
        recent: [...own.recent, ...peers.recent].sort((a, b) => b.at - a.at).slice(0, RECENT),
      };
    },
    setPeers(next) {
      const json = JSON.stringify(next);
      if (json === peersJson) return;
      peers = next;
      peersJson = json;
      changed();
    },
    local: () => localSnapshot(),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
  };
}
