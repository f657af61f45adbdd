import { Hono } from 'hono';
import type { PayloadPreview } from '../monitor/payload-preview.ts';

/** Whether the gateway keeps what it received, and if not, what to answer and why. */
export type PayloadPreviewAccess =
  | { kind: 'on'; preview: PayloadPreview }
  | { kind: 'off'; status: 403 | 404; message: string };

const EXTENSION = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
} as const;
const NUMBER = /^[1-9]\d{0,14}$/;

/**
 * The "what left" routes, mounted inside the dashboard (behind its admin token) at `/payloads`:
 * `GET /` the payloads held, newest first, as JSON without their bytes; `GET /:n` one payload's
 * bytes exactly as received, under the content type its envelope declared. Off: every route
 * answers the status and message of `access`.
 */
export function createPayloadRoutes(access: PayloadPreviewAccess): Hono {
  const app = new Hono();
  if (access.kind === 'off') {
    app.all('*', (c) => c.json({ error: access.message }, access.status));
    return app;
  }
  const { preview } = access;
  app.get('/', (c) => c.json({ ...preview.stats(), payloads: preview.list() }));
  app.get('/:n', (c) => {
    const n = c.req.param('n');
    if (!NUMBER.test(n)) return c.json({ error: `not a payload number: ${n}` }, 400);
    const held = preview.get(Number(n));
    if (!held) {
      return c.json(
        { error: `payload ${n} is not held (newer payloads replaced it, or it never came)` },
        404,
      );
    }
    const { entry, image } = held;
    return c.body(image, 200, {
      'Content-Type': entry.mime,
      'Content-Length': String(image.length),
      // The bytes are the device's, unchecked: a browser shows them as an image and nothing more.
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Content-Disposition': `inline; filename="payload-${entry.n}.${EXTENSION[entry.mime]}"`,
    });
  });
  return app;
}
