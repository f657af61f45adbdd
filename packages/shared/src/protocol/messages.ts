import { z } from 'zod';

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

/** Header of a binary frame envelope (see envelope.ts). */
export const FrameHeaderSchema = z
  .object({
    type: z.literal('frame'),
    frameId: FrameIdSchema,
    seq: z.number().int().nonnegative(),
    view: z.enum(['crop', 'full']),
    mime: z.enum(['image/jpeg', 'image/png', 'image/webp']),
    capturedAt: z.number().nonnegative().optional(),
    /** The edge's own answer, for the operator's view of local against cloud. */
    local: ClassScoreSchema.optional(),
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
  })
  .strict();

export const ClientTextMessageSchema = z.discriminatedUnion('type', [HelloSchema, StatsSchema]);
export const ServerMessageSchema = z.discriminatedUnion('type', [WelcomeSchema, ResultSchema, ErrorSchema]);

export type Hello = z.infer<typeof HelloSchema>;
export type Welcome = z.infer<typeof WelcomeSchema>;
export type ResultMessage = z.infer<typeof ResultSchema>;
export type ErrorMessage = z.infer<typeof ErrorSchema>;
export type FrameHeader = z.infer<typeof FrameHeaderSchema>;
export type Stats = z.infer<typeof StatsSchema>;
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
