// deploy/compose/fleet.yaml against the code, without a Docker engine: two gateway replicas on
// one Redis and one Mosquitto, and an agent given both. Each service's command goes through the
// CLI parser of the program it runs (flags, the mounted config file and the environment from
// .env.example), so a flag the gateway or the agent does not know, or a URL that names no
// service, fails here.
import path from 'node:path';
import { edgeConfigFromCli } from '@squeezegate/edge';
import { gatewayConfigFromCli } from '@squeezegate/gateway';
import { EDGE_WS_PATH, type EdgeConfig, type GatewayConfig } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { repoRoot } from '../support/env.ts';
import { interpolate, isFile, readYaml } from './deploy-files.ts';
import {
  bindMounts,
  COMPOSE_DIR,
  Compose,
  type ComposeService,
  composeEnv,
  DOCKERFILES,
} from './manifests.ts';

const FILE = 'deploy/compose/fleet.yaml';
const fleet = Compose.parse(readYaml(FILE));
const { services } = fleet;
type Service = z.infer<typeof ComposeService>;
const gateways = Object.entries(services).filter(([name]) => name.startsWith('gateway-'));

/** A service's command and environment as the program in it reads them (mounted files mapped back to the repository). */
function asRun(service: Service) {
  const mounts = bindMounts(service);
  const args = (service.command ?? []).map((arg) => {
    const mount = mounts.find((m) => m.target === arg);
    return mount ? path.join(repoRoot, mount.source) : arg;
  });
  const env = Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v, composeEnv)]),
  );
  return { args, env };
}

async function gatewayConfig(service: Service): Promise<GatewayConfig> {
  const { args, env } = asRun(service);
  const parsed = await gatewayConfigFromCli(args, env);
  if (parsed.ok !== true) throw new Error(`${FILE}: ${JSON.stringify(parsed)}`);
  return parsed.config;
}

/** A service's published ports as [host port, container port]. */
const published = (service: Service) => (service.ports ?? []).map((p) => p.split(':'));

describe(FILE, () => {
  it('runs two gateways, Redis, Mosquitto and one agent', () => {
    expect(Object.keys(services).sort()).toEqual(['edge-1', 'gateway-1', 'gateway-2', 'mosquitto', 'redis']);
    expect(interpolate(services.redis!.image, composeEnv)).toMatch(/^redis:\d/);
    expect(interpolate(services.mosquitto!.image, composeEnv)).toMatch(/^eclipse-mosquitto:\d/);
  });

  it('builds the gateways and the agent from the existing Dockerfiles, with the repository as context', () => {
    const built = Object.values(services).filter((s) => s.build);
    expect(built.map((s) => s.build!.dockerfile).sort()).toEqual([
      DOCKERFILES.edge.file,
      DOCKERFILES.gateway.file,
      DOCKERFILES.gateway.file,
    ]);
    for (const s of built) {
      expect(path.resolve(COMPOSE_DIR, s.build!.context)).toBe(repoRoot);
      expect(isFile(s.build!.dockerfile), s.build!.dockerfile).toBe(true);
    }
  });

  it("each gateway's flags are the gateway's own: one Redis, one broker, the same devices", async () => {
    expect(gateways).toHaveLength(2);
    const configs = await Promise.all(gateways.map(([, s]) => gatewayConfig(s)));
    for (const config of configs) {
      const redis = new URL(config.redis!.url);
      expect(Object.keys(services)).toContain(redis.hostname);
      expect(Number(redis.port || 6379)).toBe(6379);
      const mqtt = new URL(config.mqtt!.url);
      expect(mqtt.hostname).toBe('mosquitto');
      expect(Number(mqtt.port || 1883)).toBe(1883);
      expect(config.devices.map((d) => d.id).sort()).toEqual(['cam-1', 'cam-2']);
    }
    // Replicas: they share the key prefix and the topic prefix, or they share nothing.
    const [one, two] = configs;
    expect(two!.redis).toEqual(one!.redis);
    expect(two!.mqtt).toEqual(one!.mqtt);
    expect(two!.devices).toEqual(one!.devices);
  });

  it('publishes the gateways on two host ports, each checked on /healthz at the port it listens on', async () => {
    const hostPorts = new Set<string>();
    for (const [name, service] of gateways) {
      const config = await gatewayConfig(service);
      expect(config.host, name).toBe('0.0.0.0');
      const ports = published(service);
      expect(ports, name).toHaveLength(1);
      expect(ports[0]!.at(-1), name).toBe(String(config.port));
      hostPorts.add(ports[0]![0]!);
      expect(service.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${config.port}/healthz`);
      expect(service.depends_on).toEqual({
        redis: { condition: 'service_healthy' },
        mosquitto: { condition: 'service_healthy' },
      });
    }
    expect(hostPorts.size).toBe(2);
    expect(services.redis!.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(services.mosquitto!.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'mosquitto_pub']);
    expect(services.mosquitto!.healthcheck?.test).toContain('1883');
  });

  it('keeps revocations across a Redis restart (append-only file in a volume)', () => {
    expect(services.redis!.command).toEqual(['redis-server', '--appendonly', 'yes']);
    expect(services.redis!.volumes?.[0]).toMatch(/^redis-data:\/data$/);
    expect(fleet).toHaveProperty('volumes.redis-data');
  });

  it('gives the agent both gateways in order, with a device and token the gateways let in', async () => {
    const edge = services['edge-1']!;
    const { args, env } = asRun(edge);
    const parsed = await edgeConfigFromCli(args, env);
    if (parsed.ok !== true) throw new Error(`${FILE}: ${JSON.stringify(parsed)}`);
    const config: EdgeConfig = parsed.config;
    const gatewayConfigs = await Promise.all(gateways.map(([, s]) => gatewayConfig(s)));
    expect([config.gatewayUrl, ...(config.failover ?? [])]).toEqual(
      gateways.map(([name], i) => `ws://${name}:${gatewayConfigs[i]!.port}${EDGE_WS_PATH}`),
    );
    const devices = interpolate(gateways[0]![1].environment?.SQUEEZEGATE_DEVICES ?? '', composeEnv).split(
      ',',
    );
    expect(devices).toContain(`${config.deviceId}:${config.token}`);
    expect(edge.depends_on).toEqual(
      Object.fromEntries(gateways.map(([name]) => [name, { condition: 'service_healthy' }])),
    );
  });
});
