import { z } from 'zod';
import { CONFIDENCE_MEASURES } from '../confidence/measures.ts';

/** Bumped on any incompatible change; every hello carries it. */
export const PROTOCOL_VERSION = 1;

/** WebSocket path edge agents connect to. */
export const EDGE_WS_PATH = '/v1/edge';

export const DeviceIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'device id: letters, digits, ".", "_" or "-"');
export const FrameIdSchema = z.string().min(1).max(128);

/** Error codes that cross the wire; never a stack. */
export const WireErrorCode = {
  AUTH_FAILED: 'AUTH_FAILED',
  PROTOCOL_VERSION: 'PROTOCOL_VERSION',
  BAD_MESSAGE: 'BAD_MESSAGE',
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  IMAGE_UNDECODABLE: 'IMAGE_UNDECODABLE',
  INFERENCE_FAILED: 'INFERENCE_FAILED',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** The gateway's inference queue is full: the edge keeps its local answer. */
  BUSY: 'BUSY',
  /** The device sent frames faster than its allowance: this frame's answer; the socket stays up. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The device already has as many connections as it may: this one is closed with 1008. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
} as const;
export const WireErrorCodeSchema = z.enum(Object.values(WireErrorCode) as [string, ...string[]]);
export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

export const HelloSchema = z
  .object({
    type: z.literal('hello'),
    protocol: z.number().int().positive(),
    deviceId: DeviceIdSchema,
    token: z.string().min(1).max(512),
    agent: z.string().max(100).optional(),
  })
  .strict();

export const WelcomeSchema = z
  .object({
    type: z.literal('welcome'),
    protocol: z.literal(PROTOCOL_VERSION),
    deviceId: DeviceIdSchema,
    cloudModel: z.string().max(100),
    maxPayloadBytes: z.number().int().positive(),
  })
  .strict();

export const ClassScoreSchema = z
  .object({ index: z.number().int().nonnegative(), label: z.string().max(200), p: z.number().min(0).max(1) })
  .strict();
export type ClassScore = z.infer<typeof ClassScoreSchema>;

/** The cloud's answer for one frame. */
export const ResultSchema = z
  .object({
    type: z.literal('result'),
    frameId: FrameIdSchema,
    model: z.string().max(100),
    top: z.array(ClassScoreSchema).min(1).max(10),
    inferMs: z.number().nonnegative(),
    /** Frames in the batch this one ran in, and how long it queued for it. */
    batchSize: z.number().int().positive().optional(),
    queueMs: z.number().nonnegative().optional(),
  })
  .strict();

/** A failure; with `frameId` it is that frame's answer, without it it concerns the session. */
export const ErrorSchema = z
  .object({
    type: z.literal('error'),
    code: WireErrorCodeSchema,
    message: z.string().max(2000),
    frameId: FrameIdSchema.optional(),
  })
  .strict();

/** Longest offload reason a frame header carries; an agent cuts a longer one to fit. */
export const MAX_OFFLOAD_REASON = 200;

/**
 * What the edge obscured in a payload before it left (its privacy ledger's `redactions`): faces
 * found and the mode that hid them, masks blacked out, and whether the file's metadata was kept.
 */
export const PayloadRedactionsSchema = z
  .object({
    faces: z.number().int().nonnegative(),
    faceMode: z.enum(['blur', 'pixelate', 'withhold', 'off']),
    masks: z.number().int().nonnegative(),
    metadata: z.enum(['stripped', 'kept']),
  })
  .strict();
export type PayloadRedactions = z.infer<typeof PayloadRedactionsSchema>;

/** Header of a binary frame envelope (see envelope.ts). */
export const FrameHeaderSchema = z
  .object({
    type: z.literal('frame'),
    frameId: FrameIdSchema,
    seq: z.number().int().nonnegative(),
    view: z.enum(['crop', 'full']),
    mime: z.enum(['image/jpeg', 'image/png', 'image/webp', 'image/avif']),
    capturedAt: z.number().nonnegative().optional(),
    /** The edge's own answer, for the operator's view of local against cloud. */
    local: ClassScoreSchema.optional(),
    /**
     * Why the edge sent it, and what it obscured first (issue 15: the dashboard's "what left"
     * view). Optional: agents before them are accepted as they were.
     */
    reason: z.string().max(MAX_OFFLOAD_REASON).optional(),
    redactions: PayloadRedactionsSchema.optional(),
  })
  .strict();

/** At most this many cameras in one stats report, and this many latest events per camera. */
export const MAX_CAMERAS = 64;
export const MAX_CAMERA_EVENTS = 10;

/** A camera's name within its agent: it becomes a Prometheus label and an MQTT topic level. */
export const CameraIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'camera id: letters, digits, ".", "_" or "-"');

/** One of a camera's latest events: a track's start, update or end, or a change of scene label. */
export const CameraEventSchema = z
  .object({
    type: z.enum(['new', 'update', 'end', 'scene']),
    label: z.string().max(200),
    /** The track the event is about; null for a scene change. */
    trackId: z.string().min(1).max(64).nullable(),
    /** Epoch milliseconds. */
    at: z.number().nonnegative(),
  })
  .strict();

const count = z.number().int().nonnegative();

/**
 * One camera's running totals since the agent started. `source` says what kind of source it is,
 * never where: a URL may carry credentials.
 */
export const CameraStatsSchema = z
  .object({
    id: CameraIdSchema,
    source: z.enum(['file', 'rtsp', 'http', 'v4l2', 'folder']),
    /** Frames out of the decoder; analysed at the analysis rate; through the model; reused by the scene gate. */
    decoded: count,
    analysed: count,
    inferred: count,
    reused: count,
    /** Frames overwritten before they were decided (the newest frame wins). */
    dropped: count,
    restarts: count,
    /** Total time without frames between a source's failure and its restart. */
    gapMs: z.number().nonnegative(),
    tracksOpen: count,
    /** The latest events, oldest first. */
    events: z.array(CameraEventSchema).max(MAX_CAMERA_EVENTS),
  })
  .strict();

/** The edge's running totals, sent now and then so the gateway sees frames that never left. */
export const StatsSchema = z
  .object({
    type: z.literal('stats'),
    frames: z.number().int().nonnegative(),
    offloaded: z.number().int().nonnegative(),
    capturedBytes: z.number().int().nonnegative(),
    sentBytes: z.number().int().nonnegative(),
    /** Per camera, from camera agents; older agents send none. */
    cameras: z
      .array(CameraStatsSchema)
      .max(MAX_CAMERAS)
      .superRefine((cameras, ctx) => {
        const seen = new Set<string>();
        for (const [i, c] of cameras.entries()) {
          if (seen.has(c.id))
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate camera id "${c.id}"` });
          seen.add(c.id);
        }
      })
      .optional(),
  })
  .strict();

/**
 * The fleet controller's offload bar for one device (issue 13 §5): while it holds, the agent
 * offloads a frame when its `measure` is below `threshold`, in place of its own policy. The same
 * bar goes to every device, so the least confident frames fleet-wide go first. `threshold: null`
 * hands the decision back to the device's own policy; so does silence past `ttlMs` (a gateway
 * that died, a replica without a budget). Agents before it log it as malformed and ignore it.
 */
export const PolicyMessageSchema = z
  .object({
    type: z.literal('policy'),
    /** Increases with every bar the gateway computes; an agent ignores an older one. */
    seq: z.number().int().nonnegative(),
    measure: z.enum(CONFIDENCE_MEASURES),
    threshold: z.number().min(0).max(1).nullable(),
    /** How long the bar holds without a newer one. */
    ttlMs: z.number().int().positive().max(3_600_000),
    /** Why, for the frame records and logs, e.g. "fleet 41.8/40 fps". */
    reason: z.string().max(200),
  })
  .strict();

export const ClientTextMessageSchema = z.discriminatedUnion('type', [HelloSchema, StatsSchema]);
export const ServerMessageSchema = z.discriminatedUnion('type', [
  WelcomeSchema,
  ResultSchema,
  ErrorSchema,
  PolicyMessageSchema,
]);

export type Hello = z.infer<typeof HelloSchema>;
export type Welcome = z.infer<typeof WelcomeSchema>;
export type ResultMessage = z.infer<typeof ResultSchema>;
export type ErrorMessage = z.infer<typeof ErrorSchema>;
export type PolicyMessage = z.infer<typeof PolicyMessageSchema>;
export type FrameHeader = z.infer<typeof FrameHeaderSchema>;
export type Stats = z.infer<typeof StatsSchema>;
export type CameraStats = z.infer<typeof CameraStatsSchema>;
export type CameraEvent = z.infer<typeof CameraEventSchema>;
export type ClientTextMessage = z.infer<typeof ClientTextMessageSchema>;
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses a JSON text against a schema; never throws. */
export function parseJsonMessage<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
  const result = schema.safeParse(raw);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, error: z.prettifyError(result.error) };
}
