// What the protocol (messages.ts, envelope.ts) says the gateway must do with an input.
import { isUtf8 } from 'node:buffer';
import { ClientTextMessageSchema, decodeFrame, PROTOCOL_VERSION } from '@squeezegate/shared';
import { type Expect, FRAME_ERRORS, FUZZ_DEVICE, MAX_PAYLOAD } from './plan.ts';

/** The first text message of a connection. */
export function expectHello(data: Buffer): Expect {
  if (data.length > MAX_PAYLOAD) return { close: [1009] };
  if (!isUtf8(data)) return { close: [1007] };
  const parsed = ClientTextMessageSchema.safeParse(tryJson(data.toString('utf8')));
  if (!parsed.success) return { refusal: ['BAD_MESSAGE'] };
  const m = parsed.data;
  if (m.type !== 'hello') return { refusal: ['NOT_AUTHENTICATED'] };
  if (m.protocol !== PROTOCOL_VERSION) return { refusal: ['PROTOCOL_VERSION'] };
  if (m.deviceId !== FUZZ_DEVICE.id || m.token !== FUZZ_DEVICE.token) return { refusal: ['AUTH_FAILED'] };
  return { welcome: true };
}

/** A text message after the hello: only stats are welcome, and they are not answered. */
export function expectSessionText(data: Buffer): Expect {
  if (data.length > MAX_PAYLOAD) return { close: [1009] };
  if (!isUtf8(data)) return { close: [1007] };
  const parsed = ClientTextMessageSchema.safeParse(tryJson(data.toString('utf8')));
  return parsed.success && parsed.data.type === 'stats' ? { silent: true } : { refusal: ['BAD_MESSAGE'] };
}

export function expectFrame(data: Buffer): Expect {
  if (data.length > MAX_PAYLOAD) return { close: [1009] };
  const frame = decodeFrame(data);
  return frame.ok
    ? { answers: { frameIds: [frame.value.header.frameId], errors: FRAME_ERRORS } }
    : { refusal: ['BAD_MESSAGE'] };
}

const NOT_JSON = Symbol('not JSON');
function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return NOT_JSON;
  }
}
