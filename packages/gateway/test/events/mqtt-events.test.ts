// The gateway's events on the real broker (127.0.0.1:1883), under a topic prefix of its own: a
// real client subscribes and sees the device connect, its answer, its revocation, and the
// retained availability that a subscriber arriving later reads at once.
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, device, frame, jpeg, startGateway } from '../server/harness.ts';

const BROKER = process.env.SQUEEZEGATE_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Every topic a test subscriber saw: the retained ones are cleared after each test. */
const seen = new Set<string>();

interface Received {
  topic: string;
  text: string;
  retain: boolean;
  qos: number;
}

async function subscriber(filter: string) {
  const client = connect(BROKER, { clientId: `sg-test-${randomBytes(4).toString('hex')}` });
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    seen.add(topic);
    got.push({ topic, text: payload.toString(), retain: packet.retain, qos: packet.qos });
  });
  await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

const until = async (cond: () => boolean, what: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('events over MQTT', () => {
  const clients: MqttClient[] = [];
  const prefix = `sg-test-${randomBytes(4).toString('hex')}`;
  afterEach(async () => {
    // Clear the retained messages this test left (an empty retained payload deletes them).
    const cleaner = connect(BROKER);
    await new Promise((r) => cleaner.once('connect', r));
    for (const topic of seen) {
      if (topic.endsWith('/available')) await cleaner.publishAsync(topic, '', { retain: true, qos: 1 });
    }
    await cleaner.endAsync();
    for (const c of clients.splice(0)) await c.endAsync();
  });

  it('publishes state changes and answers at QoS 1, and availability retained', async () => {
    const sub = await subscriber(`${prefix}/#`);
    clients.push(sub.client);
    const { gateway } = await startGateway({
      adminToken: ADMIN,
      mqtt: { url: BROKER, prefix },
      redis: undefined,
    });
    let closed = false;
    try {
      await until(
        () =>
          sub.got.some((m) => m.topic === `${prefix}/gateways/${gatewayTopicId(sub.got, prefix)}/available`),
        'the gateway online',
      );
      const cam = await device(gateway.edgeUrl, 'cam-1');
      cam.ws.send(frame('f-1', await jpeg(60)));
      const [, answer] = await cam.received(2);
      expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
      await until(() => sub.got.some((m) => m.topic.endsWith('/answers')), 'the answer');
      const res = await fetch(`${gateway.url}/admin/devices/cam-1/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(res.status).toBe(200);
      const states = () =>
        sub.got
          .filter((m) => m.topic === `${prefix}/devices/cam-1/state`)
          .map((m) => JSON.parse(m.text).state as string);
      await until(() => states().length === 3, 'three state changes');
      expect(states()).toEqual(['connected', 'revoked', 'disconnected']);

      const published = sub.got.find((m) => m.topic === `${prefix}/devices/cam-1/answers`)!;
      expect(published.qos).toBe(1);
      expect(JSON.parse(published.text)).toMatchObject({
        deviceId: 'cam-1',
        frameId: 'f-1',
        status: 'ok',
        cloud: { index: answer!.top![0]!.index },
      });
      const availabilityOf = () => sub.got.filter((m) => m.topic === `${prefix}/devices/cam-1/available`);
      await until(() => availabilityOf().length === 3, 'three availability messages');
      const availability = availabilityOf();
      expect(availability.map((m) => m.text)).toEqual(['online', 'offline', 'offline']);
      expect(availability.every((m) => m.qos === 1)).toBe(true);

      await gateway.close();
      closed = true;
      // A subscriber arriving now reads the retained availability at once.
      const late = await subscriber(`${prefix}/+/+/available`);
      clients.push(late.client);
      await until(() => late.got.length >= 2, 'the retained availability');
      expect(late.got.every((m) => m.retain && m.text === 'offline')).toBe(true);
      expect(late.got.map((m) => m.topic)).toContain(`${prefix}/devices/cam-1/available`);
    } finally {
      if (!closed) await gateway.close();
    }
  });
});

/** The gateway's id as it appears in its availability topic. */
function gatewayTopicId(got: Received[], prefix: string): string {
  const m = got.find((g) => g.topic.startsWith(`${prefix}/gateways/`));
  return m?.topic.split('/')[2] ?? '(none yet)';
}
