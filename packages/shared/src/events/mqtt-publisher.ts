/**
 * What the edge's event sink and the gateway's events share: one MQTT connection that never
 * blocks its caller. It connects and reconnects in the background; messages wait, in order, in a
 * bounded queue while the broker is away or slow (past `maxQueue` the oldest are dropped and
 * counted) and go out at QoS 1, at most `maxInflight` unacknowledged. `availableTopic` reads
 * `online` (retained) from each connection on, `offline` on close, and `offline` as the MQTT last
 * will, so a process that died reads as offline too. An outage is logged once, not thrown.
 */
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

export interface MqttPublisherOptions {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://…`; credentials may be in the URL. */
  url: string;
  /** Unique per broker. */
  clientId: string;
  availableTopic: string;
  /** Already a child logger of its component; the broker (password masked) is added. */
  logger: Logger;
  maxQueue: number;
  /** Default 100. */
  maxInflight?: number;
  /** Delay between reconnection attempts, ms. Default 2,000. */
  reconnectPeriodMs?: number;
  /** Give up one connection attempt after this long, ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** `close()` flushes for at most this long before it disconnects, ms. Default 2,000. */
  closeTimeoutMs?: number;
}

export interface MqttPublisherStats {
  /** Acknowledged by the broker (QoS 1). */
  published: number;
  /** Dropped: the queue overflowed, a publish failed, or it came after close(). */
  dropped: number;
  queued: number;
  inflight: number;
  connected: boolean;
  /** Successful connections, the first included. */
  connects: number;
}

export interface MqttPublisher {
  /** Queues one message (QoS 1); never waits for the broker. */
  publish(topic: string, payload: string, retain?: boolean): void;
  stats(): MqttPublisherStats;
  /** Flushes what is queued (at most `closeTimeoutMs`), says `offline`, then disconnects. */
  close(): Promise<void>;
}

interface Outgoing {
  topic: string;
  payload: string;
  retain: boolean;
  /** The availability messages: sent like the others, not counted as the caller's. */
  own?: true;
}

/** The URL with its password masked, for logs. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}

/** Topic levels must not contain `/`, `+` or `#`. */
export const topicLevel = (s: string) => s.replace(/[/+#]/g, '_');

export function createMqttPublisher(options: MqttPublisherOptions): MqttPublisher {
  const {
    url,
    availableTopic,
    maxQueue,
    maxInflight = 100,
    reconnectPeriodMs = 2_000,
    connectTimeoutMs = 10_000,
    closeTimeoutMs = 2_000,
  } = options;
  const log = options.logger.child({ broker: maskUrl(url) });
  const counts = { published: 0, dropped: 0, connects: 0 };
  const queue: Outgoing[] = [];
  let inflight = 0;
  let outage = false;
  let overflowLogged = false;
  let closing: Promise<void> | null = null;
  const idle = new Set<() => void>();

  const client: MqttClient = connect(url, {
    clientId: options.clientId.slice(0, 128),
    reconnectPeriod: reconnectPeriodMs,
    connectTimeout: connectTimeoutMs,
    will: { topic: availableTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
  });

  const pump = () => {
    while (client.connected && inflight < maxInflight && queue.length > 0) {
      const m = queue.shift()!;
      inflight++;
      client.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (err) => {
        inflight--;
        if (err) log.debug({ err, topic: m.topic }, 'mqtt publish failed');
        if (!m.own) counts[err ? 'dropped' : 'published']++;
        pump();
      });
    }
    if (queue.length === 0 && inflight === 0) for (const done of idle) done();
  };

  client.on('connect', () => {
    counts.connects++;
    if (outage || counts.connects > 1) log.info({ queued: queue.length }, 'mqtt broker reachable again');
    else log.info('mqtt connected');
    outage = false;
    // First in line: before anything queued while the broker was away.
    queue.unshift({ topic: availableTopic, payload: 'online', retain: true, own: true });
    pump();
  });
  client.on('error', (err) => {
    // The client retries by itself; say it once per outage, with the cause.
    if (!outage && closing === null) log.error({ err }, 'mqtt broker unreachable; events wait in memory');
    outage = true;
  });
  client.on('offline', () => {
    if (!outage && closing === null) log.warn('mqtt connection lost; events wait in memory');
    outage = true;
  });

  /** Resolves once nothing is queued or in flight, or after `ms`. */
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
    publish(topic, payload, retain = false) {
      if (closing !== null) return void counts.dropped++;
      queue.push({ topic, payload, retain });
      if (queue.length > maxQueue) {
        queue.splice(
          queue.findIndex((m) => !m.own),
          1,
        );
        counts.dropped++;
        if (!overflowLogged) log.warn({ maxQueue }, 'mqtt queue full; dropping the oldest events');
        overflowLogged = true;
      } else if (queue.length < maxQueue / 2) {
        overflowLogged = false;
      }
      pump();
    },
    stats: () => ({
      ...counts,
      queued: queue.filter((m) => !m.own).length,
      inflight,
      connected: client.connected,
    }),
    close() {
      closing ??= (async () => {
        if (client.connected) {
          queue.push({ topic: availableTopic, payload: 'offline', retain: true, own: true });
          await drained(closeTimeoutMs);
        }
        const unsent = queue.filter((m) => !m.own).length;
        counts.dropped += unsent;
        queue.length = 0;
        // end(false) waits for unacknowledged publishes: only when nothing is left in flight.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          client.end(inflight > 0 || !client.connected, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        log.info({ published: counts.published, dropped: counts.dropped, unsent }, 'mqtt closed');
      })();
      return closing;
    },
  };
}
