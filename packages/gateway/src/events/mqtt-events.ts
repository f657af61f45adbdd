import { createMqttPublisher, topicLevel } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { FleetEvent } from '../monitor/fleet-monitor.ts';

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

/**
 * Publishes what the gateway's sessions and monitor emit (docs/operations.md, "Events over MQTT"):
 * - `<prefix>/devices/<device>/answers`: each frame's answer, QoS 1;
 * - `<prefix>/devices/<device>/state`: connected, disconnected, revoked, QoS 1;
 * - `<prefix>/devices/<device>/available`: `online` / `offline`, QoS 1, retained;
 * - `<prefix>/gateways/<gateway>/available`: `online` on connect, `offline` on close, and as the
 *   MQTT last will, so a gateway that died reads as offline too.
 * The connection is the shared publisher's (createMqttPublisher, as the edge's MQTT sink): it
 * reconnects by itself and holds messages in a bounded queue; a frame never waits on the broker.
 */
export function createMqttEvents(options: MqttEventsOptions): MqttEvents {
  const { prefix, gatewayId } = options;
  const publisher = createMqttPublisher({
    ...options,
    clientId: `squeezegate-gateway-${gatewayId}`,
    availableTopic: `${prefix}/gateways/${topicLevel(gatewayId)}/available`,
    logger: options.logger.child({ component: 'mqtt-events', prefix }),
  });
  // Device ids are `[A-Za-z0-9._-]` (the protocol's schema): safe as a topic level as they are.
  const device = (deviceId: string) => `${prefix}/devices/${deviceId}`;
  const state = (deviceId: string, s: DeviceState, at: number) => {
    publisher.publish(
      `${device(deviceId)}/state`,
      JSON.stringify({ deviceId, state: s, at, gateway: gatewayId }),
    );
    publisher.publish(`${device(deviceId)}/available`, s === 'connected' ? 'online' : 'offline', true);
  };
  return {
    fleetEvent(event) {
      switch (event.kind) {
        case 'connected':
        case 'disconnected':
          return state(event.deviceId, event.kind, event.at);
        case 'answered':
          return publisher.publish(
            `${device(event.decision.deviceId)}/answers`,
            JSON.stringify({ ...event.decision, gateway: gatewayId }),
          );
      }
    },
    revoked: (deviceId) => state(deviceId, 'revoked', Date.now()),
    stats: () => {
      const { published, dropped, queued, connected } = publisher.stats();
      return { published, dropped, queued, connected };
    },
    close: () => publisher.close(),
  };
}
