import { type FrameHeader, FrameHeaderSchema, type Parsed, parseJsonMessage } from './messages.ts';

/**
 * Binary frame envelope, one WebSocket binary message per frame, no base64:
 *
 *   offset 0  4 bytes  magic "SQZF"
 *   offset 4  1 byte   envelope version (1)
 *   offset 5  4 bytes  header length H, uint32 big-endian
 *   offset 9  H bytes  header, UTF-8 JSON (FrameHeaderSchema)
 *   offset 9+H         image bytes (the encoded payload)
 */
const MAGIC = Buffer.from('SQZF', 'ascii');
const ENVELOPE_VERSION = 1;
const PREFIX = 9;
export const MAX_HEADER_BYTES = 4096;

export interface FrameEnvelope {
  header: FrameHeader;
  image: Buffer;
}

export function encodeFrame(header: FrameHeader, image: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > MAX_HEADER_BYTES) throw new RangeError(`frame header is ${json.length} bytes`);
  const out = Buffer.allocUnsafe(PREFIX + json.length + image.length);
  MAGIC.copy(out, 0);
  out.writeUInt8(ENVELOPE_VERSION, 4);
  out.writeUInt32BE(json.length, 5);
  json.copy(out, PREFIX);
  out.set(image, PREFIX + json.length);
  return out;
}

/** Decodes and validates an envelope; never throws. The image is a view on `data`. */
export function decodeFrame(data: Buffer): Parsed<FrameEnvelope> {
  if (data.length < PREFIX) return { ok: false, error: `envelope too short (${data.length} bytes)` };
  if (!data.subarray(0, 4).equals(MAGIC)) return { ok: false, error: 'bad envelope magic' };
  const version = data.readUInt8(4);
  if (version !== ENVELOPE_VERSION) return { ok: false, error: `unsupported envelope version ${version}` };
  const headerLength = data.readUInt32BE(5);
  if (headerLength > MAX_HEADER_BYTES || PREFIX + headerLength > data.length) {
    return { ok: false, error: `bad header length ${headerLength}` };
  }
  const header = parseJsonMessage(FrameHeaderSchema, data.toString('utf8', PREFIX, PREFIX + headerLength));
  if (!header.ok) return { ok: false, error: `frame header: ${header.error}` };
  const image = data.subarray(PREFIX + headerLength);
  if (image.length === 0) return { ok: false, error: 'frame has no image bytes' };
  return { ok: true, value: { header: header.value, image } };
}
