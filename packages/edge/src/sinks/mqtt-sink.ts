import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { CameraEvent } from '../temporal/frigate.ts';
import type { EventSink, SinkStats } from './event-sink.ts';

export interface MqttSinkOptions {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://…`; credentials may be in the URL. */
  url: string;
  /** Topic prefix, Frigate's `topic_prefix`. Default `frigate`; give each agent its own. */
  prefix?: string;
  /** Default `squeezegate-edge-<random>`; must be unique per broker. */
  clientId?: string;
  logger: Logger;
  /** Events held in memory while the broker is away or slow; beyond it the oldest are dropped. Default 1,000. */
  maxQueue?: number;
  /** Unacknowledged QoS 1 publishes at a time. Default 100. */
  maxInflight?: number;
  /** Delay between reconnection attempts, ms. Default 2,000. */
  reconnectPeriodMs?: number;
  /** Give up one connection attempt after this long, ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** `close()` flushes for at most this long before it disconnects, ms. Default 2,000. */
  closeTimeoutMs?: number;
}

export interface MqttSinkStats extends SinkStats {
  /** Acknowledged by the broker (QoS 1). */
  published: number;
  queued: number;
  inflight: number;
  connected: boolean;
  /** Successful connections, the first included. */
  connects: number;
}

export interface MqttSink extends EventSink {
  readonly stats: MqttSinkStats;
}

interface Outgoing {
  topic: string;
  payload: string;
  retain: boolean;
}

/** The URL with its password masked, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}

/** Topic levels must not contain `/`, `+` or `#`. */
const level = (s: string) => s.replace(/[/+#]/g, '_');

/**
 * Publishes camera events over MQTT with Frigate's topic layout: track events (`new` / `update`
 * / `end`) to `<prefix>/events` at QoS 1, scene events to `<prefix>/<camera>/scene` at QoS 1,
 * retained (a subscriber learns the current scene at once), and `<prefix>/available` retained
 * `online` on each connection and `offline` on close, with an MQTT last will of `offline` so a
 * crashed agent also reads as offline.
 *
 * Never blocks the agent: the connection runs in the background and reconnects every
 * `reconnectPeriodMs`; events wait in a bounded in-memory queue while the broker is away and
 * go out in order when it returns; past `maxQueue` the oldest are dropped and counted. A broker
 * that is not there is logged once per outage, not thrown.
 */
export function createMqttSink(options: MqttSinkOptions): MqttSink {
  const {
    url,
    prefix = 'frigate',
    clientId = `squeezegate-edge-${randomBytes(4).toString('hex')}`,
    maxQueue = 1_000,
    maxInflight = 100,
    reconnectPeriodMs = 2_000,
    connectTimeoutMs = 10_000,
    closeTimeoutMs = 2_000,
  } = options;
  const where = redact(url);
  const log = options.logger.child({ component: 'mqtt-sink', broker: where, prefix });
  const available = `${prefix}/available`;
  const counts = { written: 0, dropped: 0, published: 0, connects: 0 };
  const queue: Outgoing[] = [];
  let inflight = 0;
  let outage = false;
  let overflowLogged = false;
  let closing: Promise<void> | null = null;
  const idle = new Set<() => void>();

  const client: MqttClient = connect(url, {
    clientId,
    reconnectPeriod: reconnectPeriodMs,
    connectTimeout: connectTimeoutMs,
    will: { topic: available, payload: Buffer.from('offline'), qos: 1, retain: true },
  });

  const pump = () => {
    while (client.connected && inflight < maxInflight && queue.length > 0) {
      const m = queue.shift()!;
      inflight++;
      client.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (err) => {
        inflight--;
        if (err) {
          counts.dropped++;
          log.debug({ err, topic: m.topic }, 'event publish failed');
        } else {
          counts.published++;
        }
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
    client.publish(available, 'online', { qos: 1, retain: true });
    pump();
  });
  client.on('error', (err) => {
    // The client retries by itself; say it once per outage, with the cause.
    if (!outage && closing === null) {
      log.error({ err }, 'mqtt broker unreachable; events wait in memory and the sink keeps retrying');
    }
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

  // end(false) waits for unacknowledged publishes, so it is only used once nothing is in flight.
  const end = (force: boolean) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      client.end(force, () => {
        clearTimeout(timer);
        resolve();
      });
    });

  const close = () => {
    closing ??= (async () => {
      const deadline = Date.now() + closeTimeoutMs;
      let offlineAcked = false;
      if (client.connected) {
        await drained(closeTimeoutMs);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          client.publish(available, 'offline', { qos: 1, retain: true }, (err) => {
            offlineAcked = !err;
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const unsent = queue.length;
      counts.dropped += unsent;
      queue.length = 0;
      await end(!client.connected || !offlineAcked || inflight > 0);
      log.info({ published: counts.published, dropped: counts.dropped, unsent }, 'mqtt sink closed');
    })();
    return closing;
  };

  return {
    write(event: CameraEvent) {
      counts.written++;
      if (closing !== null) {
        counts.dropped++;
        return;
      }
      const m: Outgoing =
        event.type === 'scene'
          ? {
              topic: `${prefix}/${level(event.after.camera)}/scene`,
              payload: JSON.stringify(event),
              retain: true,
            }
          : { topic: `${prefix}/events`, payload: JSON.stringify(event), retain: false };
      queue.push(m);
      if (queue.length > maxQueue) {
        queue.shift();
        counts.dropped++;
        if (!overflowLogged) log.warn({ maxQueue }, 'mqtt event queue full; dropping the oldest events');
        overflowLogged = true;
      } else if (queue.length < maxQueue / 2) {
        overflowLogged = false;
      }
      pump();
    },
    get stats() {
      return { ...counts, queued: queue.length, inflight, connected: client.connected };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
