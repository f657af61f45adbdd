import { Hono } from 'hono';

export interface HealthSource {
  /** False once shutdown has begun. */
  ready(): boolean;
  readyDetail(): Record<string, unknown>;
}

/** HTTP surface of the gateway (the edge WebSocket is attached to the same server). */
export function createHttpApp(health: HealthSource): Hono {
  const app = new Hono();
  // Liveness: the process answers.
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Readiness: the cloud model is loaded and the gateway accepts frames.
  app.get('/readyz', (c) =>
    health.ready()
      ? c.json({ status: 'ready', ...health.readyDetail() })
      : c.json({ status: 'not ready' }, 503),
  );
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: err.message }, 500));
  return app;
}
