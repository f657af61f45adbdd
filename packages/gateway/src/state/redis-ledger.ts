import type { Logger } from 'pino';
import { z } from 'zod';
import type { FrameClaim, FrameLedger, MemoryFrameLedger } from '../sessions/frame-ledger.ts';
import type { RedisLink } from './redis-link.ts';

/** One answer as the replicas keep it: the frame's fingerprint and the text sent for it. */
const SharedAnswerSchema = z.object({ f: z.string(), a: z.string() }).strict();

export interface SharedLedgerOptions {
  /** This replica's ledger: the first answer, and the only one while Redis is down. */
  local: MemoryFrameLedger;
  link: RedisLink;
  keyPrefix: string;
  ttlMs: number;
  logger: Logger;
  /** Answers made while Redis is down, kept to be written back (oldest dropped beyond). */
  maxPending?: number;
}

export interface SharedLedger extends FrameLedger {
  /** Answers made while Redis was down and not yet written back. */
  pending(): number;
}

/**
 * The frame ledger shared by every replica: `<prefix>ledger:<device>:<frameId>` holds the answer
 * (fingerprint and text) for `ttlMs`. A frame resent to another replica under the same id and
 * with the same bytes is answered from there, not classified again. This replica's memory ledger
 * is asked first, so repeats in flight here wait for their answer as before.
 *
 * While Redis is down, answers go to memory only and are kept to be written back when it
 * returns (with what is left of their TTL). A frame answered on one replica and resent to
 * another during the outage is classified there again: nothing shared answers it.
 */
export function createSharedLedger(options: SharedLedgerOptions): SharedLedger {
  const { local, link, keyPrefix, ttlMs, maxPending = 100_000 } = options;
  const log = options.logger.child({ component: 'shared-ledger' });
  const key = (deviceId: string, frameId: string) => `${keyPrefix}ledger:${deviceId}:${frameId}`;
  /** key → value and when it expires (epoch ms), in insertion order. */
  const unwritten = new Map<string, { value: string; expiresAt: number }>();

  const keep = (k: string, value: string, expiresAt: number) => {
    unwritten.delete(k);
    unwritten.set(k, { value, expiresAt });
    for (const oldest of unwritten.keys()) {
      if (unwritten.size <= maxPending) break;
      unwritten.delete(oldest);
    }
  };
  const write = (k: string, value: string) => {
    const expiresAt = Date.now() + ttlMs;
    if (!link.up) return keep(k, value, expiresAt);
    link.client.set(k, value, 'PX', ttlMs).catch(() => keep(k, value, expiresAt));
  };
  const wrap = (
    claim: Extract<FrameClaim, { kind: 'new' }>,
    deviceId: string,
    frameId: string,
    fingerprint: string,
  ): FrameClaim => ({
    kind: 'new',
    settle(answer, settleOptions) {
      claim.settle(answer, settleOptions);
      if (settleOptions.remember)
        write(key(deviceId, frameId), JSON.stringify({ f: fingerprint, a: answer }));
    },
  });

  link.onUp(async () => {
    if (unwritten.size === 0) return;
    const now = Date.now();
    const batch = [...unwritten].filter(([, e]) => e.expiresAt > now + 1);
    const pipeline = link.client.pipeline();
    for (const [k, e] of batch) pipeline.set(k, e.value, 'PX', e.expiresAt - now);
    const results = (await pipeline.exec()) ?? [];
    let written = 0;
    for (const [i, [k, e]] of batch.entries()) {
      // A newer answer for the same key may have come in meanwhile: keep that one.
      if (results[i]?.[0] === null && unwritten.get(k) === e) {
        unwritten.delete(k);
        written++;
      }
    }
    for (const [k, e] of unwritten) if (e.expiresAt <= now) unwritten.delete(k);
    log.info({ written, left: unwritten.size }, 'ledger answers made during the outage written back');
  });

  return {
    claim(deviceId, frameId, fingerprint) {
      const mine = local.claim(deviceId, frameId, fingerprint);
      if (mine.kind !== 'new' || !link.up) {
        return mine.kind === 'new' ? wrap(mine, deviceId, frameId, fingerprint) : mine;
      }
      return (async (): Promise<FrameClaim> => {
        try {
          const raw = await link.client.get(key(deviceId, frameId));
          const shared = raw === null ? null : SharedAnswerSchema.safeParse(JSON.parse(raw));
          if (shared?.success && shared.data.f === fingerprint) {
            // Answered by another replica (or by this one before a restart): once is enough.
            mine.settle(shared.data.a, { remember: true });
            return { kind: 'answered', answer: shared.data.a };
          }
        } catch (err) {
          // Redis went away (or answered nonsense): this replica answers the frame itself.
          log.debug({ err: { message: (err as Error).message } }, 'shared ledger unavailable for a claim');
        }
        return wrap(mine, deviceId, frameId, fingerprint);
      })();
    },
    forget(deviceId) {
      local.forget(deviceId);
      const prefix = key(deviceId, '');
      for (const k of unwritten.keys()) if (k.startsWith(prefix)) unwritten.delete(k);
      if (!link.up) return;
      // Rare (a revocation or a removed device): a scan over this device's keys is fine.
      const stream = link.client.scanStream({ match: `${prefix}*`, count: 500 });
      stream.on('data', (keys: string[]) => {
        if (keys.length > 0) link.client.unlink(...keys).catch(() => {});
      });
      stream.on('error', (err) => log.debug({ err: { message: err.message } }, 'ledger cleanup stopped'));
    },
    size: (deviceId) => local.size(deviceId),
    pending: () => unwritten.size,
  };
}
