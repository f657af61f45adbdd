import { z } from 'zod';
import { CONFIDENCE_MEASURES } from '../confidence/measures.ts';
import { DEFAULT_FACE_SEARCH_ID, DETECTORS, isFaceSearchId } from '../detection/catalog.ts';
import { MODEL_IDS } from '../models/catalog.ts';
import { DeviceIdSchema } from '../protocol/messages.ts';

export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const Measure = z.enum(CONFIDENCE_MEASURES);
const Temperature = z.number().positive().max(100).default(1);
const Fraction = z.number().min(0).max(1);
const idsOf = (role: 'detector' | 'face') =>
  DETECTORS.filter((d) => d.role === role).map((d) => d.id) as [string, ...string[]];
const ObjectDetectorId = z.enum(idsOf('detector'));
/** One face model, or several joined by "+" (one face search with a human check, issue 15). */
const FaceSearchId = z.string().refine(isFaceSearchId, {
  message: `face models (${idsOf('face').join(', ')}), one or several joined by "+", each once`,
});

/**
 * Offload when the edge's confidence (by `measure`) is below `threshold`. The default 0.85 is
 * where `npm start` keeps most of the cloud's top-1 within a quarter of the captured bytes
 * (docs/policies-and-calibration.md#payloads); 0.5 kept 3 points less.
 */
export const ThresholdPolicySchema = z
  .object({
    kind: z.literal('threshold'),
    measure: Measure.default('maxProb'),
    threshold: Fraction.default(0.85),
    /** Softmax temperature for the `calibrated` measure (fitted by `squeezegate-edge calibrate`). */
    temperature: Temperature,
  })
  .strict();

export const LEARNED_FEATURES = ['p1', 'p2', 'p3', 'margin', 'entropy', 'logP1', 'top5'] as const;
/**
 * Features beyond the edge's output (issue 16 §2): `flip*` need a second edge pass on the
 * mirrored view, `alt*` the `altModel` on the frame. `flipAgree`/`altAgree` are 1 when that
 * pass's top-1 is the edge's, `flipP`/`altP` its probability of the edge's top-1, `altP1` the
 * alt model's own top probability.
 */
const EXTRA_FEATURES = ['flipAgree', 'flipP', 'altAgree', 'altP', 'altP1'] as const;
export type LearnedFeature = (typeof LEARNED_FEATURES)[number] | (typeof EXTRA_FEATURES)[number];

/** A logistic deferral rule: offload when σ(w·(x−mean)/std + b) ≥ threshold. */
export const LearnedRuleSchema = z
  .object({
    features: z.array(z.enum([...LEARNED_FEATURES, ...EXTRA_FEATURES])).min(1),
    mean: z.array(z.number()),
    std: z.array(z.number().positive()),
    weights: z.array(z.number()),
    bias: z.number(),
  })
  .strict()
  .refine((r) => [r.mean, r.std, r.weights].every((a) => a.length === r.features.length), {
    message: 'mean, std and weights need one entry per feature',
  });
export type LearnedRule = z.infer<typeof LearnedRuleSchema>;

export const LearnedPolicySchema = z
  .object({
    kind: z.literal('learned'),
    rule: LearnedRuleSchema,
    threshold: Fraction.default(0.5),
    /** The second edge model the `alt*` features run (default squeezenet1.0-deepcompression). */
    altModel: z.enum(MODEL_IDS).optional(),
  })
  .strict();

/** Hold a target offload fraction with an online quantile of the confidence and a credit cap. */
export const RatePolicySchema = z
  .object({
    kind: z.literal('rate'),
    target: Fraction.default(0.3),
    measure: Measure.default('maxProb'),
    temperature: Temperature,
    /** Offloads allowed above the target share in a burst (at least one, or nothing could go). */
    burst: z.number().min(1).default(3),
  })
  .strict();

/** A byte budget per second (token bucket); the least confident frames go first. */
export const BudgetPolicySchema = z
  .object({
    kind: z.literal('budget'),
    bytesPerSecond: z.number().positive(),
    /** Bucket size; default two seconds of budget. */
    burstBytes: z.number().positive().optional(),
    measure: Measure.default('maxProb'),
    temperature: Temperature,
    threshold: Fraction.default(0.5),
  })
  .strict();

export const PolicySchema = z.discriminatedUnion('kind', [
  ThresholdPolicySchema,
  LearnedPolicySchema,
  RatePolicySchema,
  BudgetPolicySchema,
  z.object({ kind: z.literal('never') }).strict(),
  z.object({ kind: z.literal('always') }).strict(),
]);
export type PolicyConfig = z.infer<typeof PolicySchema>;
export type PolicyKind = PolicyConfig['kind'];

/**
 * Codecs a re-encoded payload can take; the gateway decodes each. (bench:cascade also measures
 * AVIF, which the gateway's screen of incoming bytes does not accept yet.)
 */
export const PAYLOAD_CODECS = ['jpeg', 'webp'] as const;
export type PayloadCodec = (typeof PAYLOAD_CODECS)[number];

/**
 * What an offloaded frame sends: the model-sized crop, the whole frame scaled to the model's
 * short side, each re-encoded with `codec` at `quality`, or the file as captured. The default,
 * a WebP q80 crop, is where bench:cascade's payload table found the cloud's top-1 kept best
 * for its bytes (docs/policies-and-calibration.md#payloads); JPEG q85 cost it 1.4 points more.
 */
export const PayloadSchema = z
  .object({
    kind: z.enum(['crop', 'frame', 'original']).default('crop'),
    codec: z.enum(PAYLOAD_CODECS).default('webp'),
    quality: z.number().int().min(1).max(100).default(80),
  })
  .strict();
export type PayloadConfig = z.infer<typeof PayloadSchema>;

/** A point of a mask polygon, as fractions of the frame's width and height (0..1, top-left origin). */
const MaskPoint = z.tuple([Fraction, Fraction]);

/**
 * What is done to every pixel before it leaves the device. Faces found by the face detector
 * (padded boxes, a low threshold: a missed face costs more than a blurred sleeve) are blurred or
 * pixelated, or their frames `withhold`-en: never sent. Mask polygons are blacked out in every
 * payload. Re-encoded payloads carry no metadata; with privacy on, `original` is re-encoded too.
 */
export const PrivacySchema = z
  .object({
    faces: z.enum(['blur', 'pixelate', 'withhold', 'off']).default('pixelate'),
    faceModel: FaceSearchId.default(DEFAULT_FACE_SEARCH_ID),
    /** onnxruntime threads of the face search, which sits on every payload's path. */
    faceThreads: z.number().int().min(1).max(16).default(2),
    faceThreshold: Fraction.default(0.5),
    /** Each face box grows by this fraction of its size on every side. */
    facePadding: z.number().min(0).max(2).default(0.2),
    masks: z.array(z.array(MaskPoint).min(3, 'a mask polygon needs at least 3 points')).default([]),
    /** JSON lines, one per payload that left: frame, bytes, reason, redactions. */
    ledger: z.string().min(1).optional(),
    /**
     * A folder that receives every payload that leaves, byte for byte, and a payloads.jsonl
     * index (frame, payload, kind, cut region, redactions): what `squeezegate-edge audit` reads.
     */
    payloadDump: z.string().min(1).optional(),
  })
  .strict();
export type PrivacyConfig = z.infer<typeof PrivacySchema>;
export const PRIVACY_DEFAULTS: PrivacyConfig = PrivacySchema.parse({});

/**
 * Object-level offload for the detect task. Detections scoring at least `confident` stay local;
 * those in [`uncertain`, `confident`) send their padded crop for the cloud classifier to verify
 * (at most `maxCrops` a frame). A frame with nothing at `minScore` whose best candidate still
 * reaches `emptyFrame` sends the downscaled frame ("something is there, nothing found").
 */
export const DetectSchema = z
  .object({
    model: ObjectDetectorId.default('yolox-nano-416'),
    /** Detections reported on the edge's own authority; default: the model's threshold. */
    minScore: Fraction.optional(),
    confident: Fraction.default(0.5),
    uncertain: Fraction.default(0.2),
    maxCrops: z.number().int().min(0).max(16).default(3),
    cropPadding: z.number().min(0).max(2).default(0.15),
    emptyFrame: Fraction.default(0.1),
    tiling: z.enum(['off', 'auto']).default('off'),
  })
  .strict()
  .refine((d) => d.uncertain <= d.confident, {
    path: ['uncertain'],
    message: 'uncertain must not exceed confident',
  });
export type DetectConfig = z.infer<typeof DetectSchema>;
export const DETECT_DEFAULTS: DetectConfig = DetectSchema.parse({});

/**
 * Where a camera's frames come from: an image folder (`dir`, replayed in name order), or a video
 * source (`url`): a file (.mp4 .mkv .avi .mov), rtsp(s)://, http(s):// (MJPEG or snapshots) or a
 * V4L2 device (/dev/videoN), decoded by ffmpeg at `fps` to the model's size.
 */
export const CameraSourceSchema = z
  .object({
    dir: z.string().min(1, 'a frame source is required (--source or SQUEEZEGATE_DATASET_DIR)').optional(),
    url: z.string().min(1, 'a frame source is required (--source or SQUEEZEGATE_DATASET_DIR)').optional(),
    /** CSV with `file` and `class_index` columns; default: `manifest.csv` in `dir` if present. */
    labels: z.string().optional(),
    /** Frames per second: folders 0 = as fast as possible; video is analysed at this rate (0 = 5). */
    fps: z.number().min(0).default(0),
    limit: z.number().int().positive().optional(),
    /** Take every `stride`-th frame starting at `offset` (to split one set across agents). */
    offset: z.number().int().nonnegative().default(0),
    stride: z.number().int().positive().default(1),
    /** Video files: replay forever, as a camera would (implies `pace: realtime`). */
    loop: z.boolean().default(false),
    /** Video files: `asap` decodes as fast as the model takes frames; `realtime` at the file's rate. */
    pace: z.enum(['asap', 'realtime']).optional(),
    rtspTransport: z.enum(['tcp', 'udp']).default('tcp'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.dir === undefined) === (s.url === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['dir'],
        message:
          s.dir === undefined
            ? 'a frame source is required (--source or SQUEEZEGATE_DATASET_DIR)'
            : 'give a folder (dir) or a video source (url), not both',
      });
  });
export type CameraSourceConfig = z.infer<typeof CameraSourceSchema>;

/** One camera of a multi-camera agent; what it leaves out comes from the agent's settings. */
export const CameraSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'camera ids: 1-64 of A-Z a-z 0-9 . _ -'),
    source: CameraSourceSchema,
    policy: PolicySchema.optional(),
    payload: PayloadSchema.optional(),
    privacy: PrivacySchema.optional(),
  })
  .strict();
export type CameraConfig = z.infer<typeof CameraSchema>;

/**
 * What time adds on video: the scene gate (a frame too like the last analysed one reuses its
 * result), tracking (an object is sent once, not every frame), and where events go.
 */
export const VideoSchema = z
  .object({
    /** ffmpeg binary; default: the one `npm install` brings, else `ffmpeg` on PATH. */
    ffmpeg: z.string().min(1).optional(),
    gate: z
      .object({
        enabled: z.boolean().default(true),
        /** A thumbnail pixel changed when it moved by more than this many grey levels (0-255). */
        levelThreshold: z.number().min(1).max(255).optional(),
        /** The frame changed when more than this share of its thumbnail pixels did. */
        shareThreshold: Fraction.optional(),
        /** Run the model at least every this many frames, however still the scene. */
        maxSkip: z.number().int().min(1).optional(),
        /** …and whenever the last analysed frame is older than this. */
        maxAgeMs: z.number().int().min(1).optional(),
      })
      .strict()
      .default({ enabled: true }),
    track: z
      .object({
        enabled: z.boolean().default(true),
        /** Frames a track survives without a matching detection. */
        maxAge: z.number().int().min(1).optional(),
        /** Detections before a track is confirmed (and announced as an event). */
        minHits: z.number().int().min(1).optional(),
        iouThreshold: Fraction.optional(),
      })
      .strict()
      .default({ enabled: true }),
    /**
     * Classify: a frame whose local label is the one the cloud was last asked about for this
     * camera takes that answer instead of asking again; another label must win this many analysed
     * frames in a row to be asked (1: ask on any change of local label; more: fewer bytes, but the
     * scene's answer also stands where the cloud would have said something else).
     */
    sceneFrames: z.number().int().min(1).max(100).default(1),
    /** Track and scene events as JSON lines (one file for every camera). */
    events: z.string().min(1).optional(),
    /** Publish the events to MQTT, in the layout of Frigate's `frigate/events`. */
    mqtt: z
      .object({
        url: z.string().regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL'),
        /** Topic prefix: events on `<prefix>/events`, availability on `<prefix>/available`. */
        prefix: z.string().min(1).default('frigate'),
      })
      .strict()
      .optional(),
  })
  .strict();
export type VideoConfig = z.infer<typeof VideoSchema>;
export const VIDEO_DEFAULTS: VideoConfig = VideoSchema.parse({});

/**
 * How an offloaded frame's answer is made from the cloud's: its top 5 re-ranked by
 * log p_cloud + edgeWeight · log p_edge (0: the cloud's top-1 as is). The default 0.25 is where
 * `npm run bench:cascade` found the cascade kept most of the cloud's top-1 on the agent's
 * redacted payloads (docs/policies-and-calibration.md#answers-fused-with-the-edge).
 */
export const FusionSchema = z.object({ edgeWeight: z.number().min(0).max(4).default(0.25) }).strict();
export type FusionConfig = z.infer<typeof FusionSchema>;

const WsUrl = z.url({ protocol: /^wss?$/, error: 'gateway URL must be ws:// or wss://' });

export const EdgeConfigSchema = z
  .object({
    deviceId: DeviceIdSchema,
    token: z.string().min(1, 'a device token is required (--token or SQUEEZEGATE_TOKEN)'),
    /** The gateway the agent dials first. */
    gatewayUrl: WsUrl,
    /**
     * More gateways, in order after `gatewayUrl`: when the one in use is gone (refused, closed,
     * handshake failed) the agent dials the next, round robin, and resends its unanswered frames
     * there under the same ids.
     */
    failover: z.array(WsUrl).min(1).max(15).optional(),
    modelsDir: z.string().min(1),
    /** classify: the whole frame's class (SqueezeNet); detect: objects (see `detect`). */
    task: z.enum(['classify', 'detect']).default('classify'),
    model: z.enum(MODEL_IDS).default('squeezenet1.1'),
    detect: DetectSchema.default(DETECT_DEFAULTS),
    privacy: PrivacySchema.default(PRIVACY_DEFAULTS),
    policy: PolicySchema.prefault({ kind: 'threshold' }),
    payload: PayloadSchema.prefault({}),
    fusion: FusionSchema.prefault({}),
    /** How long a frame waits for the cloud before it keeps its local answer. */
    deadlineMs: z.number().int().positive().default(1000),
    /** Offloaded frames awaiting an answer at once; capture waits beyond this. */
    maxInFlight: z.number().int().positive().default(8),
    /** Reconnect backoff after the gateway drops: base · 2^attempt ms, capped, with jitter. */
    reconnect: z
      .object({
        baseMs: z.number().int().positive().default(250),
        maxMs: z.number().int().positive().default(10_000),
      })
      .strict()
      .default({ baseMs: 250, maxMs: 10_000 }),
    /**
     * After the gateway answers BUSY the agent sends nothing for a "full jitter" draw in
     * [0, min(maxMs, baseMs · 2^n)), n the backoffs since its last cloud answer; a frame whose
     * deadline passes meanwhile keeps its local answer.
     */
    busyBackoff: z
      .object({
        baseMs: z.number().int().positive().default(50),
        maxMs: z.number().int().positive().default(2000),
      })
      .strict()
      .default({ baseMs: 50, maxMs: 2000 }),
    /**
     * Disk spool for frames offloaded while the gateway is unreachable: they wait there (at most
     * `maxBytes`) up to `ttlMs` for the link to come back, then keep their local answer (expired).
     */
    spool: z
      .object({
        dir: z.string().min(1),
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        ttlMs: z.number().int().positive().default(60_000),
      })
      .strict()
      .optional(),
    /** The agent's one camera (or the default settings of `cameras`). */
    source: CameraSourceSchema.optional(),
    /**
     * Several cameras on one agent: each its own source and, optionally, its own policy, payload,
     * masks and face handling; they share the model. Without it the agent has one camera, `source`.
     */
    cameras: z.array(CameraSchema).max(64).optional(),
    video: VideoSchema.default(VIDEO_DEFAULTS),
    /** Where results go as JSON lines; "-" = stdout. */
    output: z.string().default('-'),
    logLevel: LogLevelSchema.default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.source === undefined && !c.cameras?.length)
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'dir'],
        message: 'a frame source is required (--source or SQUEEZEGATE_DATASET_DIR)',
      });
    const gateways = [c.gatewayUrl, ...(c.failover ?? [])];
    const again = gateways.find((g, k) => gateways.indexOf(g) !== k);
    if (again)
      ctx.addIssue({ code: 'custom', path: ['failover'], message: `gateway ${again} is listed twice` });
    const ids = c.cameras?.map((cam) => cam.id) ?? [];
    const twice = ids.find((id, k) => ids.indexOf(id) !== k);
    if (twice)
      ctx.addIssue({ code: 'custom', path: ['cameras'], message: `camera id ${twice} is used twice` });
  });
export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export type ConfigResult<T> = { ok: true; config: Readonly<T> } | { ok: false; issues: string[] };

/** Validates raw config, listing every problem (path: message). */
export function parseConfig<T>(schema: z.ZodType<T>, raw: unknown): ConfigResult<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, config: deepFreeze(result.data) };
  return {
    ok: false,
    issues: result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
  };
}
