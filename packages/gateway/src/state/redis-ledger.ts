import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { FrameClaim, FrameLedger, MemoryFrameLedger } from '../sessions/frame-ledger.ts';
import type { RedisLink } from './redis-link.ts';

/**
 * A frame as the replicas keep it, by its fingerprint: answered (the text sent for it), or in
 * flight on replica `p` since `t` (epoch ms).
 */
const SharedEntrySchema = z.union([
  z.object({ f: z.string(), a: z.string() }).strict(),
  z.object({ f: z.string(), p: z.string(), t: z.number() }).strict(),
]);

/** KEYS[1] = ARGV[1] ? set it to ARGV[2] for ARGV[3] ms (1) : leave it (0). */
const SWAP = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
/** KEYS[1] = ARGV[1] ? delete it. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
type WithLedgerScripts = Redis & {
  squeezegateLedgerSwap(key: string, from: string, to: string, ttlMs: number): Promise<number>;
  squeezegateLedgerRelease(key: string, value: string): Promise<number>;
};

export interface SharedLedgerOptions {
  /** This replica's ledger: the first answer, and the only one while Redis is down. */
  local: MemoryFrameLedger;
  link: RedisLink;
  keyPrefix: string;
  ttlMs: number;
  /** This replica's name, in the marker of a frame it is answering. */
  replicaId: string;
  /** Whether a replica still runs (its fleet heartbeat): a dead one's frames are taken over. */
  isAlive(replicaId: string): Promise<boolean>;
  /**
   * How long a frame may stay marked in flight (default 10 s): waiters wait no longer (a slower
   * answer is then classified twice, rather than holding a frame, or a shutdown, longer).
   */
  inFlightTtlMs?: number;
  /** A marker this young is never taken over, however the heartbeat looks (default 2 s). */
  graceMs?: number;
  /** How often a waiter looks again (default 25 ms). */
  pollMs?: number;
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
 * A frame being answered is marked in flight (SET NX, `inFlightTtlMs`): the same frame resent to
 * another replica meanwhile (its device reconnected there) waits for that answer instead of
 * being classified twice — unless the marking replica's heartbeat is gone (it died), then the
 * waiter takes the frame over. A retryable outcome (busy, rate limited) removes the marker.
 *
 * While Redis is down, answers go to memory only and are kept to be written back when it
 * returns (with what is left of their TTL). A frame answered on one replica and resent to
 * another during the outage is classified there again: nothing shared answers it.
 */
export function createSharedLedger(options: SharedLedgerOptions): SharedLedger {
  const { local, link, keyPrefix, ttlMs, replicaId, maxPending = 100_000 } = options;
  const { inFlightTtlMs = 10_000, graceMs = 2_000, pollMs = 25 } = options;
  const scripts = link.client as WithLedgerScripts;
  scripts.defineCommand('squeezegateLedgerSwap', { numberOfKeys: 1, lua: SWAP });
  scripts.defineCommand('squeezegateLedgerRelease', { numberOfKeys: 1, lua: RELEASE });
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
  type NewClaim = Extract<FrameClaim, { kind: 'new' }>;
  /** This replica answers the frame; `marker` is its in-flight marker in Redis, if it set one. */
  const wrap = (claim: NewClaim, k: string, fingerprint: string, marker: string | null): FrameClaim => ({
    kind: 'new',
    settle(answer, settleOptions) {
      claim.settle(answer, settleOptions);
      if (settleOptions.remember) write(k, JSON.stringify({ f: fingerprint, a: answer }));
      else if (marker !== null && link.up) scripts.squeezegateLedgerRelease(k, marker).catch(() => {});
    },
  });

  /** Marks the frame in flight here, or waits for the replica that has (see above). */
  const claimShared = async (mine: NewClaim, k: string, fingerprint: string): Promise<FrameClaim> => {
    const marker = JSON.stringify({ f: fingerprint, p: replicaId, t: Date.now() });
    let askedAlive = 0;
    for (;;) {
      if ((await link.client.set(k, marker, 'PX', inFlightTtlMs, 'NX')) === 'OK') {
        return wrap(mine, k, fingerprint, marker);
      }
      const raw = await link.client.get(k);
      if (raw === null) continue; // gone between the two calls: try again
      const entry = parseEntry(raw);
      if (entry === null || entry.f !== fingerprint) {
        // Another frame under this id (an agent that restarted its ids), or junk: ours now.
        await link.client.set(k, marker, 'PX', inFlightTtlMs);
        return wrap(mine, k, fingerprint, marker);
      }
      if ('a' in entry) {
        // Answered by another replica (or by this one before a restart): once is enough.
        mine.settle(entry.a, { remember: true });
        return { kind: 'answered', answer: entry.a };
      }
      // Marked by this replica yet unknown to its memory: left by an earlier run under this name.
      const stale = entry.p === replicaId;
      if (stale || (Date.now() - entry.t > graceMs && Date.now() - askedAlive > 500)) {
        askedAlive = Date.now();
        if (stale || !(await options.isAlive(entry.p))) {
          if ((await scripts.squeezegateLedgerSwap(k, raw, marker, inFlightTtlMs)) === 1) {
            log.info({ key: k, from: entry.p }, 'frame taken over from a replica that is gone');
            return wrap(mine, k, fingerprint, marker);
          }
          continue;
        }
      }
      // In flight elsewhere: its answer comes, or its marker expires (then the SET NX above wins).
      await sleep(pollMs);
    }
  };

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
      if (mine.kind !== 'new') return mine;
      const k = key(deviceId, frameId);
      if (!link.up) return wrap(mine, k, fingerprint, null);
      return claimShared(mine, k, fingerprint).catch((err: Error) => {
        // Redis went away (now or while waiting): this replica answers the frame itself.
        log.debug({ err: { message: err.message } }, 'shared ledger unavailable for a claim');
        return wrap(mine, k, fingerprint, null);
      });
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

function parseEntry(raw: string): z.infer<typeof SharedEntrySchema> | null {
  try {
    const entry = SharedEntrySchema.safeParse(JSON.parse(raw));
    return entry.success ? entry.data : null;
  } catch {
    return null;
  }
}
