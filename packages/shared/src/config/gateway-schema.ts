import { z } from 'zod';
import { CONFIDENCE_MEASURES } from '../confidence/measures.ts';
import { MODEL_IDS } from '../models/catalog.ts';
import { DeviceIdSchema } from '../protocol/messages.ts';
import { LogLevelSchema } from './schemas.ts';

/**
 * One device allowed to connect: its token in plain (hashed when the gateway loads it) or only
 * its sha256 digest (`printf %s "$TOKEN" | sha256sum`), so a config file need not hold the secret.
 */
const GatewayDeviceSchema = z
  .object({
    id: DeviceIdSchema,
    token: z.string().min(8, 'device tokens need at least 8 characters').optional(),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "the token's sha256 as 64 hex digits")
      .optional(),
  })
  .strict()
  .refine((d) => (d.token === undefined) !== (d.tokenSha256 === undefined), {
    message: 'give exactly one of token and tokenSha256',
  });

export const GatewayConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    modelsDir: z.string().min(1),
    cloudModel: z.enum(MODEL_IDS).default('mobilenetv2-12-int8'),
    /** Devices allowed to connect, each with its token or the token's sha256. */
    devices: z.array(GatewayDeviceSchema).superRefine((devices, ctx) => {
      const seen = new Set<string>();
      for (const [i, d] of devices.entries()) {
        if (seen.has(d.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate device id "${d.id}"` });
        seen.add(d.id);
      }
    }),
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /**
     * Bearer token for every endpoint that is not the edge socket or a health probe (/metrics,
     * /dashboard, /admin, the /v2 inference API); unset leaves them open and the admin API off.
     */
    adminToken: z.string().min(16, 'the admin token needs at least 16 characters').optional(),
    /** PEM files: with them the gateway serves https and wss only. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Frames per second a device may send for inference (token bucket, one second of burst); unset: no limit. */
    maxFramesPerSecond: z.number().positive().optional(),
    /** Connections a device may hold at once; two lets an agent reconnect before a dead socket is noticed. */
    maxConnectionsPerDevice: z.number().int().positive().default(2),
    /** Answers remembered per device, so a frame sent again under the same id is answered once. */
    answerCacheSize: z.number().int().positive().default(4096),
    /** onnxruntime intra-op threads per inference worker. */
    threads: z.number().int().positive().default(1),
    /** Worker threads running the cloud model, each with its own session. */
    workers: z.number().int().positive().max(64).default(1),
    /** Dynamic batching: the largest batch (1 = off) and how long a frame may wait for others. */
    maxBatch: z.number().int().positive().max(256).default(8),
    maxQueueDelayMs: z.number().min(0).max(1000).default(2),
    /** Frames waiting for inference beyond this are answered busy (the edge keeps its answer). */
    maxQueue: z.number().int().positive().default(64),
    /**
     * The dashboard's "what left" view (issue 15): the last `size` payloads exactly as received,
     * in memory only, at most `maxBytes` of them (the oldest go first). It needs the admin token.
     */
    payloadPreview: z
      .object({
        enabled: z.boolean().default(true),
        size: z.number().int().positive().max(1000).default(50),
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(16 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** A remote Open Inference Protocol v2 server (Triton, KServe…) instead of local inference. */
    remote: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        /** The model's name on that server (default: the cloud model id). */
        model: z.string().min(1).optional(),
        timeoutMs: z.number().int().positive().default(10_000),
        /** Requests in flight at once. */
        concurrency: z.number().int().positive().default(4),
        /**
         * Sent with every request, e.g. `Authorization: Bearer …` when the server is another
         * gateway (its admin token). Values are secrets: --print-config masks them.
         */
        headers: z
          .record(z.string(), z.string().regex(/^[^\r\n\0]*$/, 'an HTTP header value has no line breaks'))
          .superRefine((headers, ctx) => {
            for (const name of Object.keys(headers)) {
              if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
                ctx.addIssue({
                  code: 'custom',
                  path: [name],
                  message: 'an HTTP header name is a token (RFC 9110): no spaces, colons or quotes',
                });
              }
            }
          })
          .default({}),
        /** Tensors as binary data (Triton's binary tensor data extension); false: plain JSON. */
        binary: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /**
     * State shared by every replica (frame ledger, revocations, rate limits, fleet view) in Redis;
     * unset: each gateway keeps it in memory. A Redis outage is not a gateway outage: it serves
     * from memory and writes back when Redis returns.
     */
    redis: z
      .object({
        url: z.url({ protocol: /^rediss?$/ }),
        /** Every key and channel starts with it, so several fleets can share one Redis. */
        keyPrefix: z.string().min(1).max(64).default('squeezegate:'),
        /** How long an answer stays in the shared ledger. */
        ledgerTtlSeconds: z.number().int().positive().default(600),
        /** A command slower than this counts as Redis being down for that call (memory answers). */
        commandTimeoutMs: z.number().int().positive().default(500),
        /** This replica's name in the fleet view (default: hostname and process id). */
        replicaId: z.string().min(1).max(128).optional(),
      })
      .strict()
      .optional(),
    /** Cloud answers and device state changes published to an MQTT broker (docs/operations.md). */
    mqtt: z
      .object({
        url: z.url({ protocol: /^(mqtts?|wss?)$/ }),
        /** First topic level; give each fleet its own. */
        prefix: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[^+#]+$/, 'an MQTT topic prefix has no "+" or "#"')
          .default('squeezegate'),
        /** Messages held while the broker is away; beyond it the oldest are dropped and counted. */
        maxQueue: z.number().int().positive().default(10_000),
      })
      .strict()
      .optional(),
    /**
     * A fleet budget (issue 13 §5, docs/operations.md "Fleet budget"): the gateway sends every
     * device one common offload bar and moves it so the fleet offloads at most this much.
     */
    fleet: z
      .object({
        /** Frames per second the fleet may send to the cloud tier. */
        budgetCloudFps: z.number().positive().optional(),
        /** Bytes per second of frame payloads the fleet may send (its uplink). */
        budgetUplinkBps: z.number().positive().optional(),
        /** How often the bar is recomputed and sent. */
        intervalMs: z.number().int().min(100).max(60_000).default(1000),
        /** The confidence measure the bar is on; devices must compute it alike (same edge model). */
        measure: z.enum(CONFIDENCE_MEASURES).default('maxProb'),
      })
      .strict()
      .refine((f) => f.budgetCloudFps !== undefined || f.budgetUplinkBps !== undefined, {
        message: 'a fleet budget needs budgetCloudFps or budgetUplinkBps',
      })
      .optional(),
    logLevel: LogLevelSchema.default('info'),
  })
  .strict()
  // A device that knew the admin token could otherwise read metrics and revoke its peers.
  .refine((c) => c.adminToken === undefined || c.devices.every((d) => d.token !== c.adminToken), {
    path: ['adminToken'],
    message: 'the admin token must differ from every device token',
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
