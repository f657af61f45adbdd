import {
  EDGE_WS_PATH,
  type GatewayConfig,
  getModelSpec,
  loadLabels,
  resolveModel,
  WireErrorCode,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { createDeviceRegistry, type DeviceCredential, type DeviceSetChange } from './auth/device-registry.ts';
import { createMqttEvents } from './events/mqtt-events.ts';
import { createFleetControl } from './fleet/fleet-control.ts';
import { requireAdmin } from './http/admin-auth.ts';
import { createAdminRoutes, type Revocation } from './http/admin-routes.ts';
import { createHttpApp } from './http/app.ts';
import { createDashboardRoutes } from './http/dashboard.ts';
import type { PayloadPreviewAccess } from './http/dashboard-payload-routes.ts';
import { listen, loadTlsMaterial } from './http/listener.ts';
import { createOipRoutes } from './http/oip-v2.ts';
import type { CloudBackend } from './inference/backend.ts';
import { type BatcherStats, createBatcher } from './inference/batcher.ts';
import { createCloudInference } from './inference/cloud-inference.ts';
import { createLocalBackend } from './inference/local-backend.ts';
import { createOipBackend } from './inference/oip-backend.ts';
import { createFairShare } from './limits/fair-share.ts';
import { createFleetMonitor, type FleetMonitor } from './monitor/fleet-monitor.ts';
import { createGatewayMetrics } from './monitor/metrics.ts';
import { createPayloadPreview } from './monitor/payload-preview.ts';
import { createDeviceConnections } from './sessions/device-connections.ts';
import { attachEdgeSession, CloseCode, type GatewayCounters } from './sessions/edge-session.ts';
import { createGatewayState, defaultGatewayId } from './state/gateway-state.ts';

export interface Gateway {
  /** http(s)://host:port of the listening server. */
  readonly url: string;
  /** ws(s)://host:port/v1/edge, where agents connect. */
  readonly edgeUrl: string;
  readonly port: number;
  counters(): Readonly<GatewayCounters>;
  batching(): BatcherStats;
  readonly monitor: FleetMonitor;
  /** Forgets a device's credential and closes its connections with 1008, at once. */
  revokeDevice(deviceId: string): Revocation;
  /**
   * Replaces the set of devices (a configuration reload): the connections of devices no longer
   * listed, or listed with another token, are closed with 1008.
   */
  replaceDevices(devices: readonly DeviceCredential[]): DeviceSetChange & { closed: number };
  /**
   * Refuses new work (new frames are answered SHUTTING_DOWN, upgrades 503), lets every frame in
   * flight get its answer, then closes every edge with 1001 and releases the model. Idempotent.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface GatewayOptions {
  config: Readonly<GatewayConfig>;
  logger: Logger;
  /** A ready backend (tests); else local workers or the remote server from config. */
  backend?: CloudBackend;
  /** The cloud model's class labels (tests, with `backend`); else read from the models directory. */
  labels?: readonly string[];
}

/** Open Inference Protocol health probes: open like /healthz and /readyz. */
const V2_PROBES: ReadonlySet<string> = new Set(['/v2/health/live', '/v2/health/ready']);
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/;

/** Opens the cloud backend, then listens for HTTP (health, Open Inference Protocol v2) and edge WebSockets. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const log = options.logger.child({ component: 'gateway' });
  const labels = options.labels ?? (await loadLabels(config.modelsDir));
  // Before the model: a bad certificate should not cost a model load, nor leave workers behind.
  const tls = config.tls && (await loadTlsMaterial(config.tls));
  const started = performance.now();
  const backend = options.backend ?? (await openBackend(config, options.logger));
  log.info(
    { model: backend.spec.id, remote: config.remote?.url, loadMs: Math.round(performance.now() - started) },
    'cloud model ready',
  );
  const batcher = createBatcher({
    backend,
    maxBatch: config.maxBatch,
    maxQueueDelayMs: config.maxQueueDelayMs,
    maxQueue: config.maxQueue,
    onBatch: (size, ms) => metrics.batch(size, ms / 1000),
  });
  const cloud = createCloudInference({ spec: backend.spec, batcher, labels });
  const registry = createDeviceRegistry(config.devices);
  const connections = createDeviceConnections({ maxPerDevice: config.maxConnectionsPerDevice });
  const counters: GatewayCounters = {
    devicesConnected: 0,
    framesIn: 0,
    bytesIn: 0,
    results: 0,
    errors: 0,
    duplicates: 0,
  };
  // One device sending back to back does not get the others' frames shed (limits/fair-share.ts).
  // The queue and one frame per running batch: held within that, a frame finds the queue with room.
  const fairShare = createFairShare({
    capacity: config.maxQueue + backend.concurrency,
    devices: () => counters.devicesConnected,
  });
  const monitor = createFleetMonitor();
  const metrics = createGatewayMetrics({
    batching: () => batcher.stats(),
    monitor,
    devicesConnected: () => counters.devicesConnected,
  });
  metrics.modelLoaded((performance.now() - started) / 1000);
  // One name for this gateway, in Redis (its marks, its heartbeat) and in its MQTT events alike.
  const gatewayId = config.redis?.replicaId ?? defaultGatewayId();
  // Frame ledger, revocations, rate limits and fleet view: in memory, or shared in Redis.
  const state = await createGatewayState({
    config,
    gatewayId,
    logger: options.logger,
    monitor,
    revokedHere: () => registry.revokedCredentials(),
    metrics: metrics.registry,
  });
  const { ledger, rateLimiter } = state;
  // Answers and device state changes out to MQTT, from what the monitor already sees.
  const events =
    config.mqtt &&
    createMqttEvents({
      ...config.mqtt,
      gatewayId,
      logger: options.logger,
    });
  if (events) monitor.onEvent((event) => events.fleetEvent(event));
  // One offload bar for every device, moved to hold the fleet budget (docs/operations.md).
  const fleet =
    config.fleet &&
    createFleetControl({
      fleet: config.fleet,
      sample: () => {
        const b = batcher.stats();
        return {
          framesIn: counters.framesIn,
          bytesIn: counters.bytesIn,
          queued: b.queued,
          maxQueue: config.maxQueue,
          // The batcher's sheds only: a frame refused for its device's share (fair-share.ts) says
          // that device is greedy, not that the cloud tier is full, and must not lower the
          // fleet's bar for everyone.
          busy: b.busy,
          served: b.items,
        };
      },
      broadcast: (text) => connections.broadcast(text),
      logger: options.logger,
      registry: metrics.registry,
    });
  let accepting = true;
  // Every edge frame being answered, so shutdown can wait for the answers.
  const frames = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    frames.add(work);
    void work.finally(() => frames.delete(work));
  };

  const closeDevice = (deviceId: string, message: string) => {
    ledger.forget(deviceId);
    rateLimiter.forget(deviceId);
    return connections.refuseAll(deviceId, WireErrorCode.AUTH_FAILED, message);
  };
  const revokeDevice = (deviceId: string): Revocation => {
    const sha256 = registry.credentialSha256(deviceId);
    if (sha256 === undefined || !registry.revoke(deviceId)) return { kind: 'unknown' };
    const closed = closeDevice(deviceId, `device "${deviceId}" was revoked`);
    log.warn({ deviceId, closed }, 'device revoked');
    state.revocations.revoked({ deviceId, sha256 });
    events?.revoked(deviceId);
    return { kind: 'revoked', closed };
  };
  // Revoked on another replica (or before this one started): refused here too, at once.
  state.revocations.subscribe(({ deviceId, sha256 }) => {
    if (!registry.revokeCredential(deviceId, sha256)) return;
    const closed = closeDevice(deviceId, `device "${deviceId}" was revoked`);
    log.warn({ deviceId, closed }, 'device revoked by another replica');
  });
  const replaceDevices = (devices: readonly DeviceCredential[]) => {
    const change = registry.replace(devices);
    let closed = 0;
    for (const id of change.removed) closed += closeDevice(id, `device "${id}" is no longer allowed`);
    for (const id of change.changed) closed += closeDevice(id, `device "${id}" has a new token`);
    log.info({ ...change, closed, devices: registry.size }, 'device list replaced');
    return { ...change, closed };
  };

  const app = createHttpApp({
    ready: () => accepting,
    readyDetail: () => ({
      model: backend.spec.id,
      devices: counters.devicesConnected,
      // Redis down is not "not ready": the gateway serves from memory, and says so here.
      ...(state.revocations.shared ? { state: state.health() } : {}),
    }),
  });
  const admin = requireAdmin(config.adminToken);
  // The v2 API runs the model for anyone who asks: behind the admin token like the operator
  // routes, except its health probes, which orchestrators call without credentials.
  app.use('/v2/*', (c, next) => (V2_PROBES.has(c.req.path) ? next() : admin(c, next)));
  app.route(
    '/v2',
    createOipRoutes({
      spec: backend.spec,
      ready: () => accepting,
      // Requests from the v2 endpoint share the edge frames' batches.
      infer: (inputs) => Promise.all(inputs.map((x) => batcher.submit(x))),
    }),
  );
  // What the devices sent, for the dashboard's "what left" view: kept only where the admin token
  // guards it, since it shows what the cameras saw.
  const preview =
    config.payloadPreview.enabled && config.adminToken !== undefined
      ? createPayloadPreview({ size: config.payloadPreview.size, maxBytes: config.payloadPreview.maxBytes })
      : null;
  const payloads: PayloadPreviewAccess = preview
    ? { kind: 'on', preview }
    : config.payloadPreview.enabled
      ? {
          kind: 'off',
          status: 403,
          message: 'the payload preview needs the admin token (--admin-token): nothing is kept',
        }
      : {
          kind: 'off',
          status: 404,
          message: 'the payload preview is off (--no-payload-preview): nothing is kept',
        };
  app.route('/dashboard', createDashboardRoutes({ monitor, adminToken: config.adminToken, payloads }));
  app.route(
    '/admin',
    createAdminRoutes({
      adminToken: config.adminToken,
      devices: () => registry.ids().map((id) => ({ id, connections: connections.count(id) })),
      revoke: revokeDevice,
    }),
  );
  app.get('/metrics', admin, async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  let listener: Awaited<ReturnType<typeof listen>>;
  try {
    listener = await listen({ fetch: app.fetch, tls, host: config.host, port: config.port, logger: log });
  } catch (err) {
    // The port is taken, say: the backend opened for this gateway must not outlive it.
    await fleet?.close();
    await state.close();
    await events?.close();
    if (!options.backend) await backend.close();
    throw err;
  }
  const { server, port, secure } = listener;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxPayloadBytes });
  const sessions = new Set<Promise<void>>();

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', (err) => log.debug({ err }, 'upgrade socket error'));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== EDGE_WS_PATH || !accepting) {
      socket.end(accepting ? 'HTTP/1.1 404 Not Found\r\n\r\n' : 'HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const { done } = attachEdgeSession({
        ws,
        registry,
        cloud,
        logger: options.logger,
        counters,
        monitor,
        metrics,
        ledger,
        rateLimiter,
        fairShare,
        connections,
        accepting: () => accepting,
        preview,
        track,
        maxPayloadBytes: config.maxPayloadBytes,
        fleetPolicy: () => fleet?.current() ?? null,
      });
      sessions.add(done);
      void done.then(() => sessions.delete(done));
    });
  });

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  log.info({ port, host: config.host, tls: secure, devices: registry.size }, 'gateway listening');
  if (!secure && !LOOPBACK.test(config.host)) {
    log.warn(
      { host: config.host },
      'listening beyond loopback without TLS: tokens cross the network in clear',
    );
  }

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      accepting = false;
      await fleet?.close();
      // Frames already taken get their answers; frames arriving now are answered SHUTTING_DOWN.
      while (frames.size > 0) await Promise.allSettled([...frames]);
      await batcher.drain();
      for (const ws of wss.clients) ws.close(CloseCode.GOING_AWAY, 'gateway shutting down');
      const drained = Promise.all(sessions);
      const timer = setTimeout(() => {
        for (const ws of wss.clients) ws.terminate();
      }, 5000);
      await drained;
      clearTimeout(timer);
      wss.close();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await serverClosed;
      await state.close();
      await events?.close();
      await preview?.close();
      if (!options.backend) await backend.close();
      log.info('gateway closed');
    })();
    return closing;
  };

  return {
    url: `${secure ? 'https' : 'http'}://${host}:${port}`,
    edgeUrl: `${secure ? 'wss' : 'ws'}://${host}:${port}${EDGE_WS_PATH}`,
    port,
    counters: () => ({ ...counters }),
    batching: () => batcher.stats(),
    monitor,
    revokeDevice,
    replaceDevices,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The configured cloud backend: a remote v2 server, or the local model in worker threads. */
async function openBackend(config: Readonly<GatewayConfig>, logger: Logger): Promise<CloudBackend> {
  if (config.remote) {
    const spec = getModelSpec(config.cloudModel)!;
    return createOipBackend({
      url: config.remote.url,
      model: config.remote.model ?? spec.id,
      spec,
      timeoutMs: config.remote.timeoutMs,
      concurrency: config.remote.concurrency,
      headers: config.remote.headers,
      binary: config.remote.binary,
    });
  }
  const model = await resolveModel(config.cloudModel, config.modelsDir);
  return createLocalBackend({ ...model, workers: config.workers, threads: config.threads, logger });
}
