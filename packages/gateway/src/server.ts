import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import {
  EDGE_WS_PATH,
  type GatewayConfig,
  getModelSpec,
  loadLabels,
  resolveModel,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { createDeviceRegistry } from './auth/device-registry.ts';
import { requireAdmin } from './http/admin-auth.ts';
import { createHttpApp } from './http/app.ts';
import { createDashboardRoutes } from './http/dashboard.ts';
import { createOipRoutes } from './http/oip-v2.ts';
import type { CloudBackend } from './inference/backend.ts';
import { type BatcherStats, createBatcher } from './inference/batcher.ts';
import { createCloudInference } from './inference/cloud-inference.ts';
import { createLocalBackend } from './inference/local-backend.ts';
import { createOipBackend } from './inference/oip-backend.ts';
import { createFleetMonitor, type FleetMonitor } from './monitor/fleet-monitor.ts';
import { createGatewayMetrics } from './monitor/metrics.ts';
import { attachEdgeSession, CloseCode, type GatewayCounters } from './sessions/edge-session.ts';

export interface Gateway {
  /** http://host:port of the listening server. */
  readonly url: string;
  /** ws://host:port/v1/edge, where agents connect. */
  readonly edgeUrl: string;
  readonly port: number;
  counters(): Readonly<GatewayCounters>;
  batching(): BatcherStats;
  readonly monitor: FleetMonitor;
  /** Stops accepting, closes every edge with 1001, drains inference, releases the model. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface GatewayOptions {
  config: Readonly<GatewayConfig>;
  logger: Logger;
  /** A ready backend (tests); else local workers or the remote server from config. */
  backend?: CloudBackend;
}

/** Opens the cloud backend, then listens for HTTP (health, Open Inference Protocol v2) and edge WebSockets. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const log = options.logger.child({ component: 'gateway' });
  const labels = await loadLabels(config.modelsDir);
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
  const counters: GatewayCounters = { devicesConnected: 0, framesIn: 0, bytesIn: 0, results: 0, errors: 0 };
  const monitor = createFleetMonitor();
  const metrics = createGatewayMetrics({
    batching: () => batcher.stats(),
    monitor,
    devicesConnected: () => counters.devicesConnected,
  });
  metrics.modelLoaded((performance.now() - started) / 1000);
  let accepting = true;

  const app = createHttpApp({
    ready: () => accepting,
    readyDetail: () => ({ model: backend.spec.id, devices: counters.devicesConnected }),
  });
  app.route(
    '/v2',
    createOipRoutes({
      spec: backend.spec,
      ready: () => accepting,
      // Requests from the v2 endpoint share the edge frames' batches.
      infer: (inputs) => Promise.all(inputs.map((x) => batcher.submit(x))),
    }),
  );
  app.route('/dashboard', createDashboardRoutes({ monitor, adminToken: config.adminToken }));
  app.get('/metrics', requireAdmin(config.adminToken), async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
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
        maxPayloadBytes: config.maxPayloadBytes,
      });
      sessions.add(done);
      void done.then(() => sessions.delete(done));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  log.info({ port, host: config.host, devices: registry.size }, 'gateway listening');

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      accepting = false;
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
      if (!options.backend) await backend.close();
      log.info('gateway closed');
    })();
    return closing;
  };

  return {
    url: `http://${host}:${port}`,
    edgeUrl: `ws://${host}:${port}${EDGE_WS_PATH}`,
    port,
    counters: () => ({ ...counters }),
    batching: () => batcher.stats(),
    monitor,
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
    });
  }
  const model = await resolveModel(config.cloudModel, config.modelsDir);
  return createLocalBackend({ ...model, workers: config.workers, threads: config.threads, logger });
}
