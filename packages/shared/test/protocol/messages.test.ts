import {
  ClientTextMessageSchema,
  DeviceIdSchema,
  EDGE_WS_PATH,
  FrameHeaderSchema,
  HelloSchema,
  type Parsed,
  PROTOCOL_VERSION,
  parseJsonMessage,
  ServerMessageSchema,
  WireErrorCode,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

/**
 * Golden corpus: every wire message shape, valid and invalid, through the schema the receiver
 * uses. Valid entries must come back unchanged; invalid ones must fail with an error that
 * points at what is wrong (`expect` is a substring of the error).
 */
type Target = 'hello' | 'client' | 'server' | 'frame';
type Case =
  | { name: string; target: Target; ok: true; message: unknown }
  | ({ name: string; target: Target; ok: false } & ({ message: unknown } | { text: string }) & {
        expect: string;
      });

function parse(target: Target, text: string): Parsed<unknown> {
  switch (target) {
    case 'hello':
      return parseJsonMessage(HelloSchema, text);
    case 'client':
      return parseJsonMessage(ClientTextMessageSchema, text);
    case 'server':
      return parseJsonMessage(ServerMessageSchema, text);
    case 'frame':
      return parseJsonMessage(FrameHeaderSchema, text);
  }
}

const hello = { type: 'hello', protocol: PROTOCOL_VERSION, deviceId: 'cam-01', token: 'secret-token' };
const welcome = {
  type: 'welcome',
  protocol: PROTOCOL_VERSION,
  deviceId: 'cam-01',
  cloudModel: 'mobilenetv2-12-int8',
  maxPayloadBytes: 4_194_304,
};
const score = { index: 207, label: 'golden retriever', p: 0.83 };
const result = { type: 'result', frameId: 'f-1', model: 'mobilenetv2-12-int8', top: [score], inferMs: 12.5 };
const error = { type: 'error', code: 'IMAGE_UNDECODABLE', message: 'cannot decode image', frameId: 'f-1' };
const frame = { type: 'frame', frameId: 'f-1', seq: 0, view: 'crop', mime: 'image/jpeg' };
const stats = { type: 'stats', frames: 120, offloaded: 9, capturedBytes: 1_200_000, sentBytes: 90_000 };
const event = { type: 'new', label: 'car', trackId: 't-7', at: 1_700_000_000_000 };
const camera = {
  id: 'lot-east',
  source: 'rtsp',
  decoded: 600,
  analysed: 120,
  inferred: 40,
  reused: 80,
  dropped: 3,
  restarts: 1,
  gapMs: 2350.5,
  tracksOpen: 2,
  events: [event, { type: 'scene', label: 'parking lot', trackId: null, at: 1_700_000_000_500 }],
};
const withCamera = (patch: Record<string, unknown>) => ({ ...stats, cameras: [{ ...camera, ...patch }] });
const withEvent = (patch: Record<string, unknown>) => withCamera({ events: [{ ...event, ...patch }] });

const long = (n: number): string => 'a'.repeat(n);
const valid = (target: Target, name: string, message: unknown): Case => ({ name, target, ok: true, message });
const invalid = (target: Target, name: string, message: unknown, expectText: string): Case => ({
  name,
  target,
  ok: false,
  message,
  expect: expectText,
});
const notJson = (target: Target, name: string, text: string): Case => ({
  name,
  target,
  ok: false,
  text,
  expect: 'not valid JSON',
});

const CORPUS: Case[] = [
  // hello (edge → gateway)
  valid('hello', 'minimal hello', hello),
  valid('hello', 'hello with agent', { ...hello, agent: 'squeezegate-edge/0.1.0' }),
  valid('hello', 'hello from a future protocol (the gateway answers PROTOCOL_VERSION)', {
    ...hello,
    protocol: 2,
  }),
  valid('hello', 'device id of 64 characters', { ...hello, deviceId: long(64) }),
  valid('hello', 'device id with . _ -', { ...hello, deviceId: 'Cam_1.lobby-East' }),
  valid('hello', 'token of 512 characters', { ...hello, token: long(512) }),
  invalid('hello', 'protocol as a string', { ...hello, protocol: '1' }, 'protocol'),
  invalid('hello', 'protocol 0', { ...hello, protocol: 0 }, 'protocol'),
  invalid('hello', 'fractional protocol', { ...hello, protocol: 1.5 }, 'protocol'),
  invalid('hello', 'missing token', { type: 'hello', protocol: 1, deviceId: 'cam-01' }, 'token'),
  invalid('hello', 'empty token', { ...hello, token: '' }, 'token'),
  invalid('hello', 'token over 512 characters', { ...hello, token: long(513) }, 'token'),
  invalid('hello', 'token as a number', { ...hello, token: 12345678 }, 'token'),
  invalid('hello', 'device id with a space', { ...hello, deviceId: 'cam 01' }, 'device id: letters, digits'),
  invalid('hello', 'device id with a slash', { ...hello, deviceId: '../etc' }, 'deviceId'),
  invalid('hello', 'device id with non-ASCII', { ...hello, deviceId: 'câmera' }, 'deviceId'),
  invalid('hello', 'empty device id', { ...hello, deviceId: '' }, 'deviceId'),
  invalid('hello', 'device id over 64 characters', { ...hello, deviceId: long(65) }, 'deviceId'),
  invalid('hello', 'agent over 100 characters', { ...hello, agent: long(101) }, 'agent'),
  invalid('hello', 'extra key', { ...hello, admin: true }, 'Unrecognized key: "admin"'),
  invalid('hello', 'wrong type tag', { ...hello, type: 'Hello' }, 'type'),
  invalid('hello', 'JSON array', [hello], 'expected object'),
  invalid('hello', 'JSON null', null, 'expected object'),
  invalid('hello', 'JSON string', 'hello', 'expected object'),
  notJson('hello', 'truncated JSON', JSON.stringify(hello).slice(0, -1)),
  notJson('hello', 'empty text', ''),
  notJson('hello', 'plain text', 'hello gateway'),
  notJson('hello', 'single-quoted JSON', "{'type':'hello'}"),
  // the client text union: only hello travels as text, frames are binary envelopes
  valid('client', 'hello through the client union', hello),
  invalid('client', 'frame header as a text message', frame, 'type'),
  invalid('client', 'message without type', { protocol: 1 }, 'type'),

  // stats (edge → gateway): running totals, and per camera from camera agents
  valid('client', 'stats from an agent without cameras', stats),
  valid('client', 'stats with one camera and its events', { ...stats, cameras: [camera] }),
  valid('client', 'stats with an empty camera list', { ...stats, cameras: [] }),
  valid('client', 'camera without events', withCamera({ events: [] })),
  valid('client', 'camera id of 64 characters', withCamera({ id: long(64) })),
  valid('client', 'camera id with . _ -', withCamera({ id: 'Lot_1.east-B' })),
  ...['file', 'rtsp', 'http', 'v4l2', 'folder'].map((source) =>
    valid('client', `camera source ${source}`, withCamera({ source })),
  ),
  ...['new', 'update', 'end', 'scene'].map((type) =>
    valid('client', `camera event ${type}`, withEvent({ type })),
  ),
  valid('client', 'ten events', withCamera({ events: Array.from({ length: 10 }, () => event) })),
  valid('client', '64 cameras', {
    ...stats,
    cameras: Array.from({ length: 64 }, (_, i) => ({ ...camera, id: `cam-${i}` })),
  }),
  valid('client', 'event label of 200 characters', withEvent({ label: long(200) })),
  valid('client', 'track id of 64 characters', withEvent({ trackId: long(64) })),
  invalid(
    'client',
    '65 cameras',
    { ...stats, cameras: Array.from({ length: 65 }, (_, i) => ({ ...camera, id: `cam-${i}` })) },
    'cameras',
  ),
  invalid(
    'client',
    'two cameras with one id',
    { ...stats, cameras: [camera, { ...camera }] },
    'duplicate camera id "lot-east"',
  ),
  invalid('client', 'cameras as an object', { ...stats, cameras: camera }, 'cameras'),
  invalid('client', 'empty camera id', withCamera({ id: '' }), 'cameras[0].id'),
  invalid('client', 'camera id over 64 characters', withCamera({ id: long(65) }), 'cameras[0].id'),
  invalid('client', 'camera id with a slash', withCamera({ id: 'lot/east' }), 'camera id: letters, digits'),
  invalid('client', 'camera id with a space', withCamera({ id: 'lot east' }), 'camera id: letters, digits'),
  invalid(
    'client',
    'camera source as a URL',
    withCamera({ source: 'rtsp://u:p@cam/1' }),
    'cameras[0].source',
  ),
  invalid('client', 'negative decoded count', withCamera({ decoded: -1 }), 'cameras[0].decoded'),
  invalid('client', 'fractional dropped count', withCamera({ dropped: 1.5 }), 'cameras[0].dropped'),
  invalid('client', 'restarts as a string', withCamera({ restarts: '1' }), 'cameras[0].restarts'),
  invalid('client', 'negative gap', withCamera({ gapMs: -3 }), 'cameras[0].gapMs'),
  invalid('client', 'missing open tracks', withCamera({ tracksOpen: undefined }), 'cameras[0].tracksOpen'),
  invalid('client', 'missing events', withCamera({ events: undefined }), 'cameras[0].events'),
  invalid(
    'client',
    'eleven events',
    withCamera({ events: Array.from({ length: 11 }, () => event) }),
    'cameras[0].events',
  ),
  invalid('client', 'extra key in a camera', withCamera({ url: 'rtsp://cam/1' }), 'Unrecognized key: "url"'),
  invalid('client', 'unknown event type', withEvent({ type: 'start' }), 'cameras[0].events[0].type'),
  invalid('client', 'event label over 200 characters', withEvent({ label: long(201) }), 'events[0].label'),
  invalid('client', 'event without track id key', withEvent({ trackId: undefined }), 'events[0].trackId'),
  invalid('client', 'empty track id', withEvent({ trackId: '' }), 'events[0].trackId'),
  invalid('client', 'numeric track id', withEvent({ trackId: 7 }), 'events[0].trackId'),
  invalid('client', 'negative event time', withEvent({ at: -1 }), 'events[0].at'),
  invalid('client', 'extra key in an event', withEvent({ box: [0, 0, 1, 1] }), 'Unrecognized key: "box"'),
  invalid('client', 'stats with a negative frame count', { ...stats, frames: -1 }, 'frames'),
  invalid('client', 'stats with an extra key', { ...stats, uptime: 5 }, 'Unrecognized key: "uptime"'),

  // welcome (gateway → edge)
  valid('server', 'welcome', welcome),
  invalid('server', 'welcome for another protocol', { ...welcome, protocol: 2 }, 'protocol'),
  invalid('server', 'welcome with zero payload limit', { ...welcome, maxPayloadBytes: 0 }, 'maxPayloadBytes'),
  invalid(
    'server',
    'welcome with fractional payload limit',
    { ...welcome, maxPayloadBytes: 1.5 },
    'maxPayloadBytes',
  ),
  invalid('server', 'welcome without cloud model', { ...welcome, cloudModel: undefined }, 'cloudModel'),
  invalid('server', 'welcome with bad device id', { ...welcome, deviceId: 'a b' }, 'deviceId'),
  invalid(
    'server',
    'welcome with extra key',
    { ...welcome, sessionId: 'x' },
    'Unrecognized key: "sessionId"',
  ),

  // result
  valid('server', 'result with one score', result),
  valid('server', 'result with ten scores', { ...result, top: Array.from({ length: 10 }, () => score) }),
  valid('server', 'result with p at the bounds', {
    ...result,
    top: [
      { ...score, p: 1 },
      { ...score, p: 0 },
    ],
  }),
  valid('server', 'result with frame id of 128 characters', { ...result, frameId: long(128) }),
  invalid('server', 'result with no scores', { ...result, top: [] }, 'top'),
  invalid(
    'server',
    'result with eleven scores',
    { ...result, top: Array.from({ length: 11 }, () => score) },
    'top',
  ),
  invalid('server', 'score above 1', { ...result, top: [{ ...score, p: 1.01 }] }, 'top[0].p'),
  invalid('server', 'negative score', { ...result, top: [{ ...score, p: -0.1 }] }, 'top[0].p'),
  invalid('server', 'negative class index', { ...result, top: [{ ...score, index: -1 }] }, 'top[0].index'),
  invalid('server', 'fractional class index', { ...result, top: [{ ...score, index: 2.5 }] }, 'top[0].index'),
  invalid(
    'server',
    'extra key in a score',
    { ...result, top: [{ ...score, logit: 3 }] },
    'Unrecognized key: "logit"',
  ),
  invalid('server', 'negative inference time', { ...result, inferMs: -1 }, 'inferMs'),
  invalid('server', 'inference time as a string', { ...result, inferMs: '12' }, 'inferMs'),
  invalid('server', 'empty frame id', { ...result, frameId: '' }, 'frameId'),
  invalid('server', 'frame id over 128 characters', { ...result, frameId: long(129) }, 'frameId'),
  invalid('server', 'result without model', { ...result, model: undefined }, 'model'),

  // error
  valid('server', 'frame error', error),
  valid('server', 'session error without frame id', {
    type: 'error',
    code: 'AUTH_FAILED',
    message: 'bad token',
  }),
  valid('server', 'error message of 2000 characters', { ...error, message: long(2000) }),
  invalid('server', 'unknown error code', { ...error, code: 'TEAPOT' }, 'code'),
  invalid('server', 'error message over 2000 characters', { ...error, message: long(2001) }, 'message'),
  invalid('server', 'error without message', { type: 'error', code: 'BAD_MESSAGE' }, 'message'),
  invalid(
    'server',
    'error carrying a stack',
    { ...error, stack: 'Error: at x.ts:1' },
    'Unrecognized key: "stack"',
  ),

  // the server union
  invalid(
    'server',
    'unknown server message type',
    { type: 'bye' },
    "Expected 'welcome' | 'result' | 'error'",
  ),
  invalid('server', 'hello sent to the edge', hello, 'type'),
  invalid('server', 'server message without type', { code: 'BAD_MESSAGE', message: 'x' }, 'type'),
  notJson('server', 'binary garbage as text', '\u0000\u0001SQZF'),

  // frame header (inside the binary envelope)
  valid('frame', 'frame header', frame),
  valid('frame', 'full frame with capture time', {
    ...frame,
    view: 'full',
    mime: 'image/png',
    capturedAt: 1_700_000_000_000,
  }),
  valid('frame', 'webp frame', { ...frame, mime: 'image/webp', seq: 42 }),
  invalid('frame', 'negative seq', { ...frame, seq: -1 }, 'seq'),
  invalid('frame', 'fractional seq', { ...frame, seq: 0.5 }, 'seq'),
  invalid('frame', 'seq as a string', { ...frame, seq: '0' }, 'seq'),
  invalid('frame', 'unknown view', { ...frame, view: 'thumbnail' }, 'view'),
  invalid('frame', 'unsupported mime type', { ...frame, mime: 'image/gif' }, 'mime'),
  invalid('frame', 'negative capture time', { ...frame, capturedAt: -5 }, 'capturedAt'),
  invalid('frame', 'frame id over 128 characters', { ...frame, frameId: long(129) }, 'frameId'),
  invalid(
    'frame',
    'missing frame id',
    { type: 'frame', seq: 0, view: 'crop', mime: 'image/jpeg' },
    'frameId',
  ),
  invalid('frame', 'extra key', { ...frame, deviceId: 'cam-01' }, 'Unrecognized key: "deviceId"'),
  // issue 15: why it left and what was obscured, optional (the frame above, without them, still passes)
  valid('frame', 'frame with its reason and redactions', {
    ...frame,
    reason: 'maxProb 0.41 < 0.6',
    redactions: { faces: 2, faceMode: 'pixelate', masks: 1, metadata: 'stripped' },
  }),
  valid('frame', 'reason of 200 characters', { ...frame, reason: long(200) }),
  invalid('frame', 'reason over 200 characters', { ...frame, reason: long(201) }, 'reason'),
  invalid(
    'frame',
    'redactions with an unknown face mode',
    { ...frame, redactions: { faces: 0, faceMode: 'smudge', masks: 0, metadata: 'kept' } },
    'faceMode',
  ),
  invalid(
    'frame',
    'redactions without a count',
    { ...frame, redactions: { faceMode: 'off', masks: 0, metadata: 'kept' } },
    'faces',
  ),
  invalid(
    'frame',
    'redactions with a negative count',
    { ...frame, redactions: { faces: -1, faceMode: 'blur', masks: 0, metadata: 'kept' } },
    'faces',
  ),
  invalid(
    'frame',
    'redactions with an extra key',
    { ...frame, redactions: { faces: 0, faceMode: 'off', masks: 0, metadata: 'kept', boxes: [] } },
    'Unrecognized key: "boxes"',
  ),
  invalid('frame', 'hello as a frame header', hello, 'type'),
];

describe('protocol corpus', () => {
  it.each(CORPUS.map((c) => [`${c.ok ? 'accepts' : 'rejects'} ${c.target}: ${c.name}`, c] as const))(
    '%s',
    (_, c) => {
      const text = 'text' in c ? c.text : JSON.stringify(c.message);
      const parsed = parse(c.target, text);
      if (c.ok) {
        expect(parsed).toEqual({ ok: true, value: c.message });
      } else {
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(parsed.error).toContain(c.expect);
      }
    },
  );

  it('covers every wire error code', () => {
    for (const code of Object.values(WireErrorCode)) {
      expect(parseJsonMessage(ServerMessageSchema, JSON.stringify({ ...error, code })).ok, code).toBe(true);
    }
  });
});

describe('protocol constants', () => {
  it('pins the version and the path', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(EDGE_WS_PATH).toBe('/v1/edge');
  });

  it('exposes the device id rule on its own', () => {
    expect(DeviceIdSchema.safeParse('cam-01').success).toBe(true);
    expect(DeviceIdSchema.safeParse('cam 01').success).toBe(false);
  });
});
