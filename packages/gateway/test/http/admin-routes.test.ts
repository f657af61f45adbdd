import { createAdminRoutes, type Revocation } from '@squeezegate/gateway';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

const ADMIN = 'admin-token-0123456789';

function mounted(adminToken: string | undefined) {
  const revoked: string[] = [];
  const devices = new Map([
    ['cam-1', 2],
    ['cam-2', 0],
  ]);
  const app = new Hono();
  app.route(
    '/admin',
    createAdminRoutes({
      adminToken,
      devices: () => [...devices].map(([id, connections]) => ({ id, connections })),
      revoke(id): Revocation {
        const connections = devices.get(id);
        if (connections === undefined) return { kind: 'unknown' };
        devices.delete(id);
        revoked.push(id);
        return { kind: 'revoked', closed: connections };
      },
    }),
  );
  return { app, revoked };
}

const auth = { authorization: `Bearer ${ADMIN}` };

describe('admin routes', () => {
  it('are off without an admin token: 403, nothing revoked', async () => {
    const { app, revoked } = mounted(undefined);
    const res = await app.request('/admin/devices/cam-1/revoke', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/--admin-token/) });
    expect((await app.request('/admin/devices')).status).toBe(403);
    expect(revoked).toEqual([]);
  });

  it('need the admin token', async () => {
    const { app, revoked } = mounted(ADMIN);
    const none = await app.request('/admin/devices/cam-1/revoke', { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="squeezegate"');
    const wrong = await app.request('/admin/devices/cam-1/revoke', {
      method: 'POST',
      headers: { authorization: 'Bearer token-one-1111' },
    });
    expect(wrong.status).toBe(401);
    expect(revoked).toEqual([]);
  });

  it('list devices and revoke one, saying how many connections closed', async () => {
    const { app, revoked } = mounted(ADMIN);
    const list = await app.request('/admin/devices', { headers: auth });
    expect(list.headers.get('cache-control')).toBe('no-store');
    expect(await list.json()).toEqual({
      devices: [
        { id: 'cam-1', connections: 2 },
        { id: 'cam-2', connections: 0 },
      ],
    });
    const res = await app.request('/admin/devices/cam-1/revoke', { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: 'cam-1', closed: 2 });
    expect(revoked).toEqual(['cam-1']);
    const again = await app.request('/admin/devices/cam-1/revoke', { method: 'POST', headers: auth });
    expect(again.status).toBe(404);
    const bad = await app.request('/admin/devices/not%20an%20id/revoke', { method: 'POST', headers: auth });
    expect(bad.status).toBe(400);
    expect((await app.request('/admin/devices/cam-2/revoke', { headers: auth })).status).toBe(404);
  });
});
