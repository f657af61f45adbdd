import { CameraStatsSchema } from '@squeezegate/shared';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { DecisionView, DeviceView, FleetMonitor } from '../monitor/fleet-monitor.ts';
import type { RedisLink } from './redis-link.ts';

const ClassScoreSchema = z.object({ index: z.number(), label: z.string(), p: z.number() }).loose();
// Loose: a newer replica may show more of a device than this one knows; its view passes through.
const DeviceViewSchema = z
  .object({
    deviceId: z.string(),
    connected: z.boolean(),
    connectedAt: z.number(),
    lastSeen: z.number(),
    frames: z.number(),
    offloaded: z.number(),
    offloadRate: z.number(),
    capturedBytes: z.number(),
    sentBytes: z.number(),
    bytesSaved: z.number(),
    answered: z.number(),
    latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
    cameras: z.array(CameraStatsSchema.loose()),
  })
  .loose();
const DecisionViewSchema = z
  .object({
    at: z.number(),
    deviceId: z.string(),
    frameId: z.string(),
    local: ClassScoreSchema.nullable(),
    cloud: ClassScoreSchema.nullable(),
    status: z.string(),
    latencyMs: z.number(),
  })
  .loose();
const ReplicaViewSchema = z.object({
  replica: z.string(),
  devices: z.array(DeviceViewSchema),
  recent: z.array(DecisionViewSchema),
});

/** A replica's published view; it exists while the replica runs (its heartbeat). */
export const replicaKey = (keyPrefix: string, replicaId: string) => `${keyPrefix}fleet:replica:${replicaId}`;

export interface SharedFleetOptions {
  link: RedisLink;
  keyPrefix: string;
  replicaId: string;
  monitor: FleetMonitor;
  /** How often this replica publishes its view and reads the others' (default 1 s). */
  intervalMs?: number;
  /** A replica silent this long is gone from the view (default 5 intervals). */
  ttlMs?: number;
  logger: Logger;
}

/**
 * The fleet view shared by every replica. Each one writes its own devices and decisions to
 * `<prefix>fleet:replica:<id>` (expiring after `ttlMs`, renewed every `intervalMs`: a heartbeat,
 * so a replica that died drops out) and lists itself in the set `<prefix>fleet:replicas`; then it
 * reads the others' and hands them to the monitor, whose `snapshot()` (the dashboard, the
 * per-device metrics) shows the union. While Redis is down it shows its own devices only.
 */
export function createSharedFleet(options: SharedFleetOptions): { close(): Promise<void> } {
  const { link, keyPrefix, replicaId, monitor, intervalMs = 1000 } = options;
  const ttlMs = options.ttlMs ?? 5 * intervalMs;
  const log = options.logger.child({ component: 'shared-fleet' });
  const replicas = `${keyPrefix}fleet:replicas`;
  const keyOf = (id: string) => replicaKey(keyPrefix, id);
  let running: Promise<void> | null = null;

  const exchange = async () => {
    if (!link.up) {
      monitor.setPeers({ devices: [], recent: [] });
      return;
    }
    const own = monitor.local();
    const mine = JSON.stringify({ replica: replicaId, devices: own.devices, recent: own.recent });
    const [, , members] = (await link.client
      .multi()
      .set(keyOf(replicaId), mine, 'PX', ttlMs)
      .sadd(replicas, replicaId)
      .smembers(replicas)
      .exec()) ?? [[null], [null], [null, []]];
    const others = ((members?.[1] as string[] | undefined) ?? []).filter((id) => id !== replicaId);
    if (others.length === 0) return monitor.setPeers({ devices: [], recent: [] });
    const views = await link.client.mget(others.map(keyOf));
    const devices: DeviceView[] = [];
    const recent: DecisionView[] = [];
    const gone: string[] = [];
    for (const [i, text] of views.entries()) {
      if (text === null) {
        gone.push(others[i]!);
        continue;
      }
      const view = ReplicaViewSchema.safeParse(JSON.parse(text));
      if (!view.success) {
        log.warn({ replica: others[i] }, 'ignoring a malformed fleet view from another replica');
        continue;
      }
      devices.push(...(view.data.devices as DeviceView[]));
      recent.push(...(view.data.recent as DecisionView[]));
    }
    if (gone.length > 0) await link.client.srem(replicas, ...gone);
    monitor.setPeers({ devices, recent });
  };

  const tick = () => {
    running ??= exchange()
      .catch((err: Error) => {
        log.debug({ err: { message: err.message } }, 'fleet view exchange failed');
        monitor.setPeers({ devices: [], recent: [] });
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  link.onUp(tick);

  return {
    async close() {
      clearInterval(timer);
      await running;
      if (!link.up) return;
      await link.client
        .multi()
        .del(keyOf(replicaId))
        .srem(replicas, replicaId)
        .exec()
        .catch(() => {});
    },
  };
}
