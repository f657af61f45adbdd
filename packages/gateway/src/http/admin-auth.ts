import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Guards the operator endpoints (/metrics, /dashboard) with the admin token, as
 * `Authorization: Bearer <token>` or a `?token=` query parameter (so a person can open the
 * dashboard in a browser). Digests make the comparison constant-time whatever the lengths.
 * No token configured: open.
 */
export function requireAdmin(adminToken: string | undefined): MiddlewareHandler {
  if (adminToken === undefined) return async (_c, next) => next();
  const expected = sha256(adminToken);
  const matches = (given: string) => timingSafeEqual(expected, sha256(given));
  return async (c, next) => {
    const header = c.req.header('authorization');
    const bearer = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const query = c.req.query('token');
    const given = [bearer, query].filter((t): t is string => t !== undefined);
    if (given.length === 0) {
      // RFC 6750 §3: no credentials → a challenge without an error code.
      c.header('WWW-Authenticate', 'Bearer realm="squeezegate"');
      return c.json(
        { error: 'this endpoint needs the admin token (Authorization: Bearer, or ?token=)' },
        401,
      );
    }
    // A header and a query parameter may both come (a proxy adds one): either being right will do.
    if (!given.map(matches).includes(true)) {
      c.header('WWW-Authenticate', 'Bearer realm="squeezegate", error="invalid_token"');
      return c.json({ error: 'the admin token is wrong' }, 401);
    }
    return next();
  };
}
