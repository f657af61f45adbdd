import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { FleetMonitor } from '../monitor/fleet-monitor.ts';
import { requireAdmin } from './admin-auth.ts';
import { DASHBOARD_PAGE } from './dashboard-page.ts';
import { createPayloadRoutes, type PayloadPreviewAccess } from './dashboard-payload-routes.ts';

export interface DashboardRoutesOptions {
  monitor: FleetMonitor;
  /**
   * When set, every dashboard route needs it, as `Authorization: Bearer <token>` or `?token=`
   * (the query form lets a person open the page in a browser). Unset: the dashboard is open.
   */
  adminToken?: string | undefined;
  /** The "what left" view's payloads (`/payloads`). Default: off, 404. */
  payloads?: PayloadPreviewAccess;
  /** Least time between two snapshots on `/events`, however often the fleet changes. Default 1000. */
  intervalMs?: number;
  /** Silence after which `/events` sends a comment, so proxies keep the stream open. Default 15000. */
  keepAliveMs?: number;
}

/** Resolves after `ms`, on `signal`, or when the returned `wake` is called, whichever is first. */
function pause(ms: number, signal: AbortSignal): { done: Promise<void>; wake: () => void } {
  let wake = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(() => wake(), ms);
    wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    signal.addEventListener('abort', wake, { once: true });
  });
  return { done, wake };
}

/**
 * The operator dashboard, mounted under a prefix (the gateway uses `/dashboard`):
 * `GET /` the page, `GET /snapshot` the fleet as JSON, `GET /events` the same as Server-Sent
 * Events (`event: snapshot` at connect, then at most every `intervalMs` while something changed),
 * `GET /payloads[/:n]` what the devices sent (dashboard-payload-routes.ts).
 */
export function createDashboardRoutes(options: DashboardRoutesOptions): Hono {
  const {
    monitor,
    adminToken,
    payloads = { kind: 'off', status: 404, message: 'this gateway keeps no payloads' },
    intervalMs = 1000,
    keepAliveMs = 15_000,
  } = options;
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    // The page URL may carry the token: never send it on as a referrer, never cache an answer.
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Content-Type-Options', 'nosniff');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  app.use('*', requireAdmin(adminToken));

  const page = (c: Context) => {
    c.header('Content-Security-Policy', DASHBOARD_PAGE.contentSecurityPolicy);
    return c.html(DASHBOARD_PAGE.html);
  };
  app.get('/', page);
  app.get('/snapshot', (c) => c.json(monitor.snapshot()));
  app.route('/payloads', createPayloadRoutes(payloads));
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      const closed = new AbortController();
      stream.onAbort(() => closed.abort());
      const signal = AbortSignal.any([closed.signal, c.req.raw.signal]);
      let changed = false;
      let waiting: { done: Promise<void>; wake: () => void } | null = null;
      const unsubscribe = monitor.subscribe(() => {
        changed = true;
        waiting?.wake();
      });
      const send = () => stream.writeSSE({ event: 'snapshot', data: JSON.stringify(monitor.snapshot()) });
      try {
        await send();
        let lastSent = performance.now();
        while (!signal.aborted) {
          if (!changed) {
            waiting = pause(keepAliveMs, signal);
            await waiting.done;
            waiting = null;
            if (signal.aborted) break;
            if (!changed) {
              // A comment line (WHATWG HTML §9.2.6): ignored by EventSource, keeps idle proxies open.
              await stream.write(': keep-alive\n\n');
              continue;
            }
          }
          // Changes that arrive within one interval go out as one snapshot.
          const wait = lastSent + intervalMs - performance.now();
          if (wait > 0) await pause(wait, signal).done;
          if (signal.aborted) break;
          changed = false;
          await send();
          lastSent = performance.now();
        }
      } finally {
        waiting?.wake();
        unsubscribe();
      }
    }),
  );
  // Hono mounts a sub-app's `/` at the bare prefix (`/dashboard`); this serves `/dashboard/` too,
  // and only that: the route path is `<prefix>/*`.
  app.get('/*', (c, next) => (c.req.path === `${c.req.routePath.slice(0, -2)}/` ? page(c) : next()));
  return app;
}
