import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { createMqttSink, type MqttSink, type MqttSinkOptions } from '../../src/sinks/mqtt-sink.ts';
import { captureLogger, sceneEvent, trackEvent, waitFor } from './helpers.ts';

// The Mosquitto the project runs (.ci/run installs it); override for another broker.
const BROKER = process.env.SQUEEZEGATE_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const brokerPort = Number(new URL(BROKER).port || 1883);
const brokerHost = new URL(BROKER).hostname;

interface Received {
  topic: string;
  text: string;
  retain: boolean;
}

const clients: MqttClient[] = [];
const sinks: MqttSink[] = [];
const retainedTopics = new Set<string>();

/** A sink closed after the tests even when one fails midway (its will would linger otherwise). */
function sinkFor(options: MqttSinkOptions): MqttSink {
  const sink = createMqttSink(options);
  sinks.push(sink);
  return sink;
}

/** A plain MQTT.js subscriber on `topics`, keeping every message. */
async function subscriber(topics: string[]): Promise<{ messages: Received[]; client: MqttClient }> {
  const client = connect(BROKER, { clientId: `sg-test-sub-${randomBytes(4).toString('hex')}` });
  clients.push(client);
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, text: payload.toString('utf8'), retain: packet.retain });
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return { messages, client };
}

const uniquePrefix = () => `sgtest-${randomBytes(5).toString('hex')}`;

afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
  // Leave no retained messages behind on the shared broker.
  if (retainedTopics.size > 0) {
    const cleaner = connect(BROKER);
    await new Promise((r) => cleaner.once('connect', r));
    for (const topic of retainedTopics) await cleaner.publishAsync(topic, '', { qos: 1, retain: true });
    await cleaner.endAsync();
  }
  await Promise.all(clients.map((c) => c.endAsync(true)));
});

describe('MQTT event sink (real Mosquitto)', () => {
  it('publishes events in order with the Frigate shape, and retained availability online/offline', async () => {
    const prefix = uniquePrefix();
    retainedTopics.add(`${prefix}/available`).add(`${prefix}/door/scene`);
    const sub = await subscriber([`${prefix}/events`, `${prefix}/door/scene`]);
    const { logger } = captureLogger();
    const sink = sinkFor({ url: BROKER, prefix, logger });
    // Written before the connection is up: they wait in the queue, in order.
    for (let n = 1; n <= 40; n++) sink.write(trackEvent(n, n % 10 === 0 ? 'end' : 'update'));
    sink.write(sceneEvent('empty'));
    await waitFor(() => sub.messages.length >= 41, { what: '41 messages' });

    const events = sub.messages.filter((m) => m.topic === `${prefix}/events`).map((m) => JSON.parse(m.text));
    expect(events.map((e) => e.after.track_id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(events[0]).toEqual(trackEvent(1, 'update'));
    for (const e of events) {
      expect(['new', 'update', 'end']).toContain(e.type);
      for (const side of [e.before, e.after]) {
        expect(side).toMatchObject({
          camera: 'lot',
          label: 'car',
          sub_label: null,
          false_positive: expect.any(Boolean),
        });
        expect(side.box).toHaveLength(4);
        expect(typeof side.start_time).toBe('number');
      }
    }
    const scene = sub.messages.find((m) => m.topic === `${prefix}/door/scene`)!;
    expect(JSON.parse(scene.text)).toEqual(sceneEvent('empty'));
    await waitFor(() => sink.stats.published === 41, { what: '41 acknowledged' });
    expect(sink.stats).toMatchObject({ written: 41, dropped: 0, queued: 0, connected: true });

    // A subscriber arriving later reads the retained state at once.
    const late = await subscriber([`${prefix}/available`, `${prefix}/door/scene`]);
    await waitFor(() => late.messages.length >= 2, { what: 'retained messages' });
    expect(late.messages.find((m) => m.topic === `${prefix}/available`)).toEqual({
      topic: `${prefix}/available`,
      text: 'online',
      retain: true,
    });
    expect(late.messages.find((m) => m.topic === `${prefix}/door/scene`)?.retain).toBe(true);

    await sink.close();
    await sink.close();
    expect(sink.stats.connected).toBe(false);
    await waitFor(() => late.messages.some((m) => m.text === 'offline'), { what: 'offline' });
    const after = await subscriber([`${prefix}/available`]);
    await waitFor(() => after.messages.length >= 1, { what: 'retained offline' });
    expect(after.messages[0]).toEqual({ topic: `${prefix}/available`, text: 'offline', retain: true });
  });

  it('keeps events in memory while the broker is away, delivers them in order when it returns, and its will says offline', async () => {
    const prefix = uniquePrefix();
    retainedTopics.add(`${prefix}/available`);
    const proxy = await tcpProxy(brokerHost, brokerPort);
    const sub = await subscriber([`${prefix}/events`, `${prefix}/available`]);
    const { logger, records } = captureLogger();
    const sink = sinkFor({ url: `mqtt://127.0.0.1:${proxy.port}`, prefix, logger, reconnectPeriodMs: 100 });
    await waitFor(() => sink.stats.connected, { what: 'sink connected' });
    sink.write(trackEvent(1));
    await waitFor(() => sub.messages.some((m) => m.topic.endsWith('/events')), { what: 'first event' });

    await proxy.stop();
    await waitFor(() => !sink.stats.connected, { what: 'sink notices the outage' });
    // The broker saw the connection die without DISCONNECT: it publishes the last will.
    await waitFor(() => sub.messages.some((m) => m.topic.endsWith('/available') && m.text === 'offline'), {
      what: 'last will',
    });
    for (let n = 2; n <= 6; n++) sink.write(trackEvent(n));
    expect(sink.stats).toMatchObject({ queued: 5, dropped: 0 });
    expect(records.some((r) => r.level >= 40 && /events wait in memory/.test(r.msg))).toBe(true);

    await proxy.start();
    await waitFor(() => sub.messages.filter((m) => m.topic.endsWith('/events')).length >= 6, {
      what: '6 events',
    });
    const ids = sub.messages
      .filter((m) => m.topic.endsWith('/events'))
      .map((m) => JSON.parse(m.text).after.track_id);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    const availability = sub.messages.filter((m) => m.topic.endsWith('/available')).map((m) => m.text);
    expect(availability.slice(-2)).toEqual(['offline', 'online']);
    // The subscriber may see a message before the sink's PUBACK arrives.
    await waitFor(() => sink.stats.published === 6, { what: '6 acknowledged' });
    expect(sink.stats).toMatchObject({ connects: 2, published: 6, queued: 0, dropped: 0 });
    await sink.close();
    await proxy.stop();
  });

  it('with no broker: logs a clear error, never throws, bounds its queue, and close() returns', async () => {
    const free = await freePort();
    const { logger, records } = captureLogger();
    const sink = sinkFor({
      url: `mqtt://user:secret@127.0.0.1:${free}`,
      logger,
      maxQueue: 3,
      reconnectPeriodMs: 100,
      closeTimeoutMs: 500,
    });
    for (let n = 1; n <= 5; n++) expect(() => sink.write(trackEvent(n))).not.toThrow();
    const error = await waitFor(() => records.find((r) => r.level === 50), { what: 'an error log' });
    expect(error.msg).toMatch(/mqtt broker unreachable/);
    expect((error.err as { code?: string }).code).toBe('ECONNREFUSED');
    expect(error.broker).toBe(`mqtt://user:***@127.0.0.1:${free}`);
    expect(JSON.stringify(records)).not.toContain('secret');
    // Retries are not logged again as errors.
    await new Promise((r) => setTimeout(r, 400));
    expect(records.filter((r) => r.level === 50)).toHaveLength(1);
    expect(sink.stats).toMatchObject({ written: 5, queued: 3, dropped: 2, connected: false });
    await sink.close();
    expect(sink.stats).toMatchObject({ queued: 0, dropped: 5, published: 0 });
  });
});

/** A TCP relay to the broker that the test can take down and bring back on the same port. */
async function tcpProxy(host: string, port: number) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let listenPort = 0;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((down) => {
        const up = net.connect(port, host);
        sockets.add(down).add(up);
        for (const s of [down, up]) {
          s.on('error', () => {});
          s.on('close', () => {
            sockets.delete(s);
            down.destroy();
            up.destroy();
          });
        }
        down.pipe(up).pipe(down);
      });
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => {
        listenPort = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (server === null) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await start();
  return { port: listenPort, start, stop };
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
