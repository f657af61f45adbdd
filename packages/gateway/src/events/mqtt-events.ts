import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DecisionView, FleetEvent } from '../monitor/fleet-monitor.ts';

/** A device's state as published: the monitor's connected/disconnected, and revoked. */
export type DeviceState = 'connected' | 'disconnected' | 'revoked';

export interface MqttEventsOptions {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://…`; credentials may be in the URL. */
  url: string;
  /** First topic level. */
  prefix: string;
  /** This gateway's name in topics and payloads (unique per broker: it is also the client id). */
  gatewayId: string;
  logger: Logger;
  /** Messages held while the broker is away or slow; beyond it the oldest are dropped. */
  maxQueue: number;
  /** Unacknowledged QoS 1 publishes at a time. Default 100. */
  maxInflight?: number;
  /** Delay between reconnection attempts, ms. Default 2,000. */
  reconnectPeriodMs?: number;
  /** `close()` flushes for at most this long, ms. Default 2,000. */
  closeTimeoutMs?: number;
}

export interface MqttEventsStats {
  /** Acknowledged by the broker (QoS 1). */
  published: number;
  dropped: number;
  queued: number;
  connected: boolean;
}

export interface MqttEvents {
  /** A monitor event (connected, disconnected, answered) to publish. */
  fleetEvent(event: FleetEvent): void;
  /** A device revoked on this gateway. */
  revoked(deviceId: string): void;
  stats(): MqttEventsStats;
  close(): Promise<void>;
}

interface Outgoing {
  topic: string;
  payload: string;
  retain: boolean;
}

/** The URL with its password masked, for logs. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * Publishes what the gateway's sessions and monitor emit (docs/operations.md, "Events over MQTT"):
 * - `<prefix>/devices/<device>/answers`: each frame's answer, QoS 1;
 * - `<prefix>/devices/<device>/state`: connected, disconnected, revoked, QoS 1;
 * - `<prefix>/devices/<device>/available`: `online` / `offline`, QoS 1, retained;
 * - `<prefix>/gateways/<gateway>/available`: `online` on connect, `offline` on close, and as the
 *   MQTT last will, so a gateway that died reads as offline too.
 * The same shape as the edge's MQTT sink (packages/edge/src/sinks/mqtt-sink.ts): the connection
 * runs in the background and reconnects by itself; messages wait, in order, in a bounded queue
 * while the broker is away; a frame never waits on the broker.
 */
export function createMqttEvents(options: MqttEventsOptions): MqttEvents {
  const {
    url,
    prefix,
    gatewayId,
    maxQueue,
    maxInflight = 100,
    reconnectPeriodMs = 2_000,
    closeTimeoutMs = 2_000,
  } = options;
  const log = options.logger.child({ component: 'mqtt-events', broker: redact(url), prefix });
  // Device ids are `[A-Za-z0-9._-]` (the protocol's schema): safe as a topic level as they are.
  const device = (deviceId: string) => `${prefix}/devices/${deviceId}`;
  const gatewayAvailable = `${prefix}/gateways/${gatewayId.replace(/[/+#]/g, '_')}/available`;
  const counts = { published: 0, dropped: 0 };
  const queue: Outgoing[] = [];
  let inflight = 0;
  let outage = false;
  let closing: Promise<void> | null = null;
  const idle = new Set<() => void>();

  const client: MqttClient = connect(url, {
    clientId: `squeezegate-gateway-${gatewayId}`.slice(0, 128),
    reconnectPeriod: reconnectPeriodMs,
    connectTimeout: 10_000,
    will: { topic: gatewayAvailable, payload: Buffer.from('offline'), qos: 1, retain: true },
  });

  const pump = () => {
    while (client.connected && inflight < maxInflight && queue.length > 0) {
      const m = queue.shift()!;
      inflight++;
      client.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (err) => {
        inflight--;
        if (err) counts.dropped++;
        else counts.published++;
        pump();
      });
    }
    if (queue.length === 0 && inflight === 0) for (const done of idle) done();
  };
  const enqueue = (m: Outgoing) => {
    if (closing !== null) return void counts.dropped++;
    queue.push(m);
    if (queue.length > maxQueue) {
      queue.shift();
      counts.dropped++;
    }
    pump();
  };
  const state = (deviceId: string, s: DeviceState, at: number) => {
    enqueue({
      topic: `${device(deviceId)}/state`,
      payload: JSON.stringify({ deviceId, state: s, at, gateway: gatewayId }),
      retain: false,
    });
    enqueue({
      topic: `${device(deviceId)}/available`,
      payload: s === 'connected' ? 'online' : 'offline',
      retain: true,
    });
  };
  const answer = (d: DecisionView) =>
    enqueue({
      topic: `${device(d.deviceId)}/answers`,
      payload: JSON.stringify({ ...d, gateway: gatewayId }),
      retain: false,
    });

  client.on('connect', () => {
    log.info({ queued: queue.length }, outage ? 'mqtt broker reachable again' : 'mqtt connected');
    outage = false;
    // First in line: before anything queued while the broker was away.
    queue.unshift({ topic: gatewayAvailable, payload: 'online', retain: true });
    pump();
  });
  client.on('error', (err) => {
    if (!outage && closing === null) log.error({ err }, 'mqtt broker unreachable; events wait in memory');
    outage = true;
  });
  client.on('offline', () => {
    if (!outage && closing === null) log.warn('mqtt connection lost; events wait in memory');
    outage = true;
  });

  const drained = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      idle.add(done);
      pump();
    });

  return {
    fleetEvent(event) {
      switch (event.kind) {
        case 'connected':
        case 'disconnected':
          return state(event.deviceId, event.kind, event.at);
        case 'answered':
          return answer(event.decision);
      }
    },
    revoked: (deviceId) => state(deviceId, 'revoked', Date.now()),
    stats: () => ({ ...counts, queued: queue.length, connected: client.connected }),
    close() {
      closing ??= (async () => {
        if (client.connected) {
          queue.push({ topic: gatewayAvailable, payload: 'offline', retain: true });
          await drained(closeTimeoutMs);
        }
        counts.dropped += queue.length;
        queue.length = 0;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          client.end(inflight > 0 || !client.connected, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        log.info({ ...counts }, 'mqtt events closed');
      })();
      return closing;
    },
  };
}
