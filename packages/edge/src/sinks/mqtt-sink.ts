import { randomBytes } from 'node:crypto';
import { createMqttPublisher, topicLevel } from '@squeezegate/shared';
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

/**
 * Publishes camera events over MQTT with Frigate's topic layout: track events (`new` / `update`
 * / `end`) to `<prefix>/events` at QoS 1, scene events to `<prefix>/<camera>/scene` at QoS 1,
 * retained (a subscriber learns the current scene at once), and `<prefix>/available`, as the
 * shared publisher (createMqttPublisher) keeps it. Never blocks the agent: events wait in a
 * bounded queue while the broker is away and go out in order when it returns.
 */
export function createMqttSink(options: MqttSinkOptions): MqttSink {
  const { prefix = 'frigate', maxQueue = 1_000 } = options;
  const publisher = createMqttPublisher({
    ...options,
    clientId: options.clientId ?? `squeezegate-edge-${randomBytes(4).toString('hex')}`,
    availableTopic: `${prefix}/available`,
    logger: options.logger.child({ component: 'mqtt-sink', prefix }),
    maxQueue,
  });
  let written = 0;
  const close = () => publisher.close();
  return {
    write(event: CameraEvent) {
      written++;
      if (event.type === 'scene') {
        publisher.publish(`${prefix}/${topicLevel(event.after.camera)}/scene`, JSON.stringify(event), true);
      } else {
        publisher.publish(`${prefix}/events`, JSON.stringify(event));
      }
    },
    get stats() {
      return { written, ...publisher.stats() };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
