import type { Logger } from 'pino';
import { z } from 'zod';
import type { RevocationStore, RevokedCredential } from './gateway-state.ts';
import type { RedisLink } from './redis-link.ts';

const RevokedSchema = z
  .object({ deviceId: z.string().min(1).max(64), sha256: z.string().regex(/^[0-9a-f]{64}$/) })
  .strict();

export interface SharedRevocationsOptions {
  link: RedisLink;
  keyPrefix: string;
  /** What this replica has revoked (or learnt of): written back after an outage. */
  known(): RevokedCredential[];
  logger: Logger;
}

/**
 * Revocations shared by every replica. Each revoked credential (device id and its token's
 * sha256, as a config file's `tokenSha256` holds it) is a field of the hash `<prefix>revoked`,
 * which outlives restarts, and is published on `<prefix>revocations`, so every replica closes
 * the device's connections as soon as the message arrives. After every (re)connect a replica
 * writes back what it revoked meanwhile and reads the whole hash, so nothing missed during an
 * outage stays missed.
 */
export function createSharedRevocations(options: SharedRevocationsOptions): RevocationStore {
  const { link, keyPrefix } = options;
  const log = options.logger.child({ component: 'shared-revocations' });
  const hash = `${keyPrefix}revoked`;
  const channel = `${keyPrefix}revocations`;
  const field = (r: RevokedCredential) => `${r.deviceId} ${r.sha256}`;
  const listeners = new Set<(r: RevokedCredential) => void>();
  /** Every revocation heard of, replayed to a late subscriber (the first sync runs before any). */
  const heard = new Map<string, RevokedCredential>();
  const deliver = (r: RevokedCredential) => {
    heard.set(field(r), r);
    for (const l of listeners) l(r);
  };

  const share = async (revoked: readonly RevokedCredential[]) => {
    if (revoked.length === 0) return;
    const now = Date.now();
    const pipeline = link.client.pipeline();
    pipeline.hset(hash, Object.fromEntries(revoked.map((r) => [field(r), String(now)])));
    for (const r of revoked) pipeline.publish(channel, JSON.stringify(r));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed) throw failed[0];
  };

  link.subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let parsed: ReturnType<typeof RevokedSchema.safeParse>;
    try {
      parsed = RevokedSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = RevokedSchema.safeParse(undefined);
    }
    if (!parsed.success) return void log.warn({ channel }, 'ignoring a malformed revocation message');
    deliver(parsed.data);
  });
  /** Every revocation persisted: what a replica missed while it was not listening. */
  const readAll = async () => {
    let read = 0;
    for (const f of await link.client.hkeys(hash)) {
      const [deviceId = '', sha256 = ''] = f.split(' ');
      const r = RevokedSchema.safeParse({ deviceId, sha256 });
      if (!r.success) continue;
      deliver(r.data);
      read++;
    }
    return read;
  };
  let subscribedBefore = false;
  link.subscriber.on('ready', () => {
    link.subscriber.subscribe(channel).then(
      async () => {
        // The subscription alone came back (the command link never dropped): read what passed.
        if (subscribedBefore && link.up) await readAll().catch(() => {});
        subscribedBefore = true;
      },
      (err: Error) => {
        log.warn(
          { err: { message: err.message } },
          'could not subscribe to revocations; retrying on reconnect',
        );
      },
    );
  });
  link.onUp(async () => {
    // Ours first (revoked during an outage), then everyone's (revoked while we were cut off).
    const ours = options.known();
    await share(ours);
    const read = await readAll();
    log.info({ written: ours.length, read }, 'revocations resynchronised');
  });

  return {
    shared: true,
    revoked(r) {
      if (!link.up) {
        log.warn({ deviceId: r.deviceId }, 'redis is down: the revocation is shared when it is back');
        return;
      }
      share([r]).catch((err: Error) =>
        log.warn(
          { deviceId: r.deviceId, err: { message: err.message } },
          'revocation not shared yet: written back when redis is back',
        ),
      );
    },
    subscribe(listener) {
      listeners.add(listener);
      for (const r of heard.values()) listener(r);
      return () => listeners.delete(listener);
    },
  };
}
