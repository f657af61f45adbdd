import { DeviceIdSchema } from '@squeezegate/shared';
import { Hono } from 'hono';
import { requireAdmin } from './admin-auth.ts';

/** What revoking a device did. */
export type Revocation = { kind: 'revoked'; closed: number } | { kind: 'unknown' };

export interface AdminRoutesOptions {
  /** Required on every route. Unset: the admin API is off (403), never open. */
  adminToken: string | undefined;
  /** Devices allowed now, with their live connections. */
  devices(): { id: string; connections: number }[];
  /** Forgets the device's credential and closes its connections with 1008. */
  revoke(deviceId: string): Revocation;
}

/**
 * The admin API, mounted under a prefix (the gateway uses `/admin`): `GET /devices`, and
 * `POST /devices/:id/revoke`, which takes effect at once, without a restart.
 */
export function createAdminRoutes(options: AdminRoutesOptions): Hono {
  const { adminToken } = options;
  const app = new Hono();
  if (adminToken === undefined) {
    // Unlike /metrics, these routes change what the gateway lets in: with no token to check,
    // anyone who reaches the port could revoke every device, so they stay off.
    app.all('*', (c) =>
      c.json({ error: 'the admin API is off: start the gateway with an admin token (--admin-token)' }, 403),
    );
    return app;
  }
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  app.use('*', requireAdmin(adminToken));
  app.get('/devices', (c) => c.json({ devices: options.devices() }));
  app.post('/devices/:id/revoke', (c) => {
    const id = DeviceIdSchema.safeParse(c.req.param('id'));
    if (!id.success) return c.json({ error: `not a device id: ${c.req.param('id')}` }, 400);
    const outcome = options.revoke(id.data);
    switch (outcome.kind) {
      case 'unknown':
        return c.json({ error: `no device "${id.data}" (unknown, or already revoked)` }, 404);
      case 'revoked':
        return c.json({ revoked: id.data, closed: outcome.closed });
    }
  });
  return app;
}
