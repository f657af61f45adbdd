// Triton's binary tensor data extension to the Open Inference Protocol v2 (HTTP/REST), shared by the
// /v2 routes (server) and the remote backend (client). A body is the JSON request or response,
// then each binary tensor's bytes in the order its tensor appears in the JSON; the
// `Inference-Header-Content-Length` header gives the JSON's length, Content-Length the whole body.
// Tensors are little-endian, row major, without padding; a BYTES element is a 4-byte unsigned
// length (little-endian) and then its bytes.
// https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md

/** The header that gives the JSON part's length in bytes (HTTP header names are case-insensitive). */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';
/** The Content-Type of a body that carries binary tensor data. */
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

/** Bytes per element in binary form; BYTES has no fixed size (length-prefixed elements). */
export const DATATYPE_SIZE: Readonly<Record<string, number | undefined>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  BF16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

export type BinaryResult<T> = { ok: true; value: T } | { ok: false; error: string };
const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

/** A body cut in two: the JSON text, and the binary data after it (empty for a JSON-only body). */
export interface SplitBody {
  json: string;
  binary: Buffer;
}

/**
 * Splits a body as its `Inference-Header-Content-Length` says; without the header (`null` or
 * `undefined`) the whole body is JSON, as the plain protocol has it.
 */
export function splitBody(body: Buffer, headerLength: string | null | undefined): BinaryResult<SplitBody> {
  if (headerLength === null || headerLength === undefined) {
    return { ok: true, value: { json: body.toString('utf8'), binary: Buffer.alloc(0) } };
  }
  if (!/^\s*\d{1,15}\s*$/.test(headerLength)) {
    return fail(
      `${INFERENCE_HEADER_CONTENT_LENGTH} must be a byte count, got '${headerLength.slice(0, 40)}'`,
    );
  }
  const length = Number(headerLength);
  if (length > body.length) {
    return fail(
      `${INFERENCE_HEADER_CONTENT_LENGTH} is ${length} but the body has only ${body.length} bytes (truncated?)`,
    );
  }
  return {
    ok: true,
    value: { json: body.subarray(0, length).toString('utf8'), binary: body.subarray(length) },
  };
}

/**
 * One body from a JSON object and the binary tensors it announces (in their order in the JSON).
 * `headerLength` goes into `Inference-Header-Content-Length`.
 */
export function joinBody(
  json: unknown,
  chunks: readonly Uint8Array[],
): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const head = Buffer.from(JSON.stringify(json), 'utf8');
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, head.length));
  body.set(head);
  let offset = head.length;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { body, headerLength: head.length };
}

/**
 * Cuts the binary part into one slice per tensor: `sizes[i]` bytes for a binary tensor, nothing for
 * one sent as JSON (`undefined`). The sizes must account for every byte, no more and no fewer.
 */
export function sliceBinary(
  binary: Buffer,
  sizes: readonly (number | undefined)[],
  names: readonly string[],
): BinaryResult<(Buffer | undefined)[]> {
  const slices: (Buffer | undefined)[] = [];
  let offset = 0;
  for (const [i, size] of sizes.entries()) {
    if (size === undefined) {
      slices.push(undefined);
      continue;
    }
    const left = binary.length - offset;
    if (size > left) {
      return fail(
        `binary data is truncated: tensor '${names[i]}' announces ${size} bytes (binary_data_size) but only ${left} follow the JSON`,
      );
    }
    slices.push(binary.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== binary.length) {
    return fail(
      `${binary.length - offset} bytes follow the JSON beyond the ${offset} its tensors announce (binary_data_size)`,
    );
  }
  return { ok: true, value: slices };
}

/** The bytes a fixed-size tensor takes in binary form, or undefined for BYTES. */
export function tensorByteSize(datatype: string, shape: readonly number[]): number | undefined {
  const size = DATATYPE_SIZE[datatype];
  return size === undefined ? undefined : shape.reduce((a, b) => a * b, size);
}

// Float32Array views are in the machine's byte order; the wire's is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** FP32 tensors as one little-endian buffer, in order. */
export function float32ToBytes(arrays: readonly Float32Array[]): Buffer {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = Buffer.allocUnsafe(total * 4);
  let offset = 0;
  for (const a of arrays) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    } else {
      for (let i = 0; i < a.length; i++) out.writeFloatLE(a[i]!, offset + i * 4);
    }
    offset += a.byteLength;
  }
  return out;
}

/** Little-endian FP32 bytes as a new Float32Array (copied, so it is aligned and owns its memory). */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`${bytes.length} bytes are not a whole number of FP32`);
  const out = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** BYTES elements in binary form: each a 4-byte little-endian length, then its bytes. */
export function encodeBytesElements(items: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(items.reduce((n, b) => n + 4 + b.length, 0));
  let offset = 0;
  for (const item of items) {
    out.writeUInt32LE(item.length, offset);
    out.set(item, offset + 4);
    offset += 4 + item.length;
  }
  return out;
}

/** The elements of a binary BYTES tensor; `count` is what its shape says there are. */
export function decodeBytesElements(bytes: Buffer, count: number): BinaryResult<Buffer[]> {
  const items: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 4) {
      return fail(
        `BYTES element ${items.length}: ${bytes.length - offset} bytes left, too few for its length`,
      );
    }
    const length = bytes.readUInt32LE(offset);
    if (length > bytes.length - offset - 4) {
      return fail(
        `BYTES element ${items.length} announces ${length} bytes but only ${bytes.length - offset - 4} are left`,
      );
    }
    items.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (items.length !== count)
    return fail(`binary data holds ${items.length} BYTES elements, the shape needs ${count}`);
  return { ok: true, value: items };
}
