import {
  bytesToFloat32,
  decodeBytesElements,
  encodeBytesElements,
  float32ToBytes,
  joinBody,
  sliceBinary,
  splitBody,
} from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

describe('binary tensor data codec', () => {
  it("joins and splits a body as Triton's example frames it", () => {
    // The spec's example: a UINT32 [2,2] (16 bytes) and a BOOL [3] (3 bytes) after the JSON.
    const json = { inputs: [{ name: 'input0', parameters: { binary_data_size: 16 } }] };
    const uint32 = new Uint8Array(new Uint32Array([1, 2, 3, 4]).buffer);
    const bool = Uint8Array.from([1, 0, 1]);
    const { body, headerLength } = joinBody(json, [uint32, bool]);
    expect(headerLength).toBe(Buffer.byteLength(JSON.stringify(json)));
    expect(body.length).toBe(headerLength + 19);
    const split = splitBody(Buffer.from(body), String(headerLength));
    if (!split.ok) throw new Error(split.error);
    expect(JSON.parse(split.value.json)).toEqual(json);
    const slices = sliceBinary(split.value.binary, [16, 3], ['input0', 'input1']);
    if (!slices.ok) throw new Error(slices.error);
    expect([...slices.value[0]!]).toEqual([...uint32]);
    expect([...slices.value[1]!]).toEqual([1, 0, 1]);
  });

  it('reads a body without the header as JSON only', () => {
    const split = splitBody(Buffer.from('{"a":1}'), undefined);
    expect(split).toEqual({ ok: true, value: { json: '{"a":1}', binary: Buffer.alloc(0) } });
    expect(splitBody(Buffer.from('{"a":1}'), null).ok).toBe(true);
  });

  it('refuses a header that is not a byte count or exceeds the body', () => {
    const body = Buffer.from('{"a":1}xyz');
    expect(splitBody(body, 'ten')).toEqual({
      ok: false,
      error: "Inference-Header-Content-Length must be a byte count, got 'ten'",
    });
    expect(splitBody(body, '-1').ok).toBe(false);
    expect(splitBody(body, '11')).toEqual({
      ok: false,
      error: 'Inference-Header-Content-Length is 11 but the body has only 10 bytes (truncated?)',
    });
    expect(splitBody(body, '10').ok).toBe(true);
  });

  it('slices JSON tensors as nothing and refuses short or long binary parts', () => {
    const binary = Buffer.from([1, 2, 3, 4, 5]);
    const ok = sliceBinary(binary, [undefined, 2, 3], ['a', 'b', 'c']);
    if (!ok.ok) throw new Error(ok.error);
    expect(ok.value[0]).toBeUndefined();
    expect([...ok.value[2]!]).toEqual([3, 4, 5]);
    expect(sliceBinary(binary, [2, 4], ['a', 'b'])).toEqual({
      ok: false,
      error:
        "binary data is truncated: tensor 'b' announces 4 bytes (binary_data_size) but only 3 follow the JSON",
    });
    expect(sliceBinary(binary, [2], ['a'])).toEqual({
      ok: false,
      error: '3 bytes follow the JSON beyond the 2 its tensors announce (binary_data_size)',
    });
  });

  it('round-trips FP32 exactly, little-endian, across tensors', () => {
    const a = Float32Array.from([0, -0, 1.5, -3.25e-20, Number.MAX_VALUE, Number.POSITIVE_INFINITY]);
    const b = Float32Array.from([Math.PI, Number.NaN]);
    const bytes = float32ToBytes([a, b]);
    expect(bytes.length).toBe(32);
    // Little-endian on the wire whatever the machine: 1.5f is 0x3fc00000.
    expect([...bytes.subarray(8, 12)]).toEqual([0x00, 0x00, 0xc0, 0x3f]);
    // From an unaligned offset, as a slice of a body is.
    const unaligned = Buffer.concat([Buffer.from([9]), bytes]).subarray(1);
    const back = bytesToFloat32(unaligned);
    expect(Object.is(back[1], -0)).toBe(true);
    expect([...back.subarray(0, 6)]).toEqual([...a]);
    expect(back[6]).toBe(Math.fround(Math.PI));
    expect(back[7]).toBeNaN();
    expect(() => bytesToFloat32(Buffer.alloc(6))).toThrow(RangeError);
  });

  it('round-trips BYTES elements and refuses broken ones', () => {
    const items = [Buffer.from('0.999000:999'), Buffer.alloc(0), Buffer.from([0xff, 0xd8, 0xff])];
    const bytes = encodeBytesElements(items);
    expect(bytes.length).toBe(12 + 12 + 3);
    expect(bytes.readUInt32LE(0)).toBe(12);
    const back = decodeBytesElements(bytes, 3);
    if (!back.ok) throw new Error(back.error);
    expect(back.value.map((b) => b.toString('hex'))).toEqual(items.map((b) => b.toString('hex')));
    expect(decodeBytesElements(bytes, 2)).toEqual({
      ok: false,
      error: 'binary data holds 3 BYTES elements, the shape needs 2',
    });
    expect(decodeBytesElements(bytes.subarray(0, bytes.length - 1), 3)).toEqual({
      ok: false,
      error: 'BYTES element 2 announces 3 bytes but only 2 are left',
    });
    expect(decodeBytesElements(Buffer.from([1, 0]), 1)).toEqual({
      ok: false,
      error: 'BYTES element 0: 2 bytes left, too few for its length',
    });
  });
});
