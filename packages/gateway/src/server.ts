import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import {
  type Classifier,
  createOnnxClassifier,
  EDGE_WS_PATH,
  type GatewayConfig,
  loadLabels,
  resolveModel,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { createDeviceRegistry } from './auth/device-registry.ts';
import { createHttpApp } from './http/app.ts';
import { createCloudInference } from './inference/cloud-inference.ts';
import { attachEdgeSession, CloseCode, type GatewayCounters } from './sessions/edge-session.ts';

export interface Gateway {
  /** http://host:port of the listening server. */
  readonly url: string;
  /** ws://host:port/v1/edge, where agents connect. */
  readonly edgeUrl: string;
  readonly port: number;
  counters(): Readonly<GatewayCounters>;
  /** Stops accepting, closes every edge with 1001, releases the model. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface GatewayOptions {
  config: Readonly<GatewayConfig>;
  logger: Logger;
  /** Pre-loaded cloud classifier (tests); else loaded and verified from config. */
  classifier?: Classifier;
}

/** Loads the cloud model, then listens for HTTP and edge WebSockets. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const log = options.logger.child({ component: 'gateway' });
  const labels = await loadLabels(config.modelsDir);
  const started = performance.now();
  const classifier =
    options.classifier ??
    (await createOnnxClassifier({
      ...(await resolveModel(config.cloudModel, config.modelsDir)),
      threads: config.threads,
    }));
  log.info(
    { model: classifier.spec.id, loadMs: Math.round(performance.now() - started) },
    'cloud model loaded',
  );
  const cloud = createCloudInference({ classifier, labels });
  const registry = createDeviceRegistry(config.devices);
  const counters: GatewayCounters = { devicesConnected: 0, framesIn: 0, bytesIn: 0, results: 0, errors: 0 };
  let accepting = true;

  const app = createHttpApp({
    ready: () => accepting,
    readyDetail: () => ({ model: classifier.spec.id, devices: counters.devicesConnected }),
  });
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
      if (!options.classifier) await classifier.close();
      log.info('gateway closed');
    })();
    return closing;
  };

  return {
    url: `http://${host}:${port}`,
    edgeUrl: `ws://${host}:${port}${EDGE_WS_PATH}`,
    port,
    counters: () => ({ ...counters }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
