import { createHash } from 'node:crypto';
import { createDeviceRegistry } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('device registry', () => {
  const registry = createDeviceRegistry([
    { id: 'cam-1', token: 'token-one-111' },
    { id: 'cam-2', token: 'token-two-222' },
  ]);
  it('accepts a device with its own token only', () => {
    expect(registry.size).toBe(2);
    expect(registry.verify('cam-1', 'token-one-111')).toBe(true);
    expect(registry.verify('cam-1', 'token-two-222')).toBe(false);
    expect(registry.verify('cam-1', 'token-one-11')).toBe(false);
    expect(registry.verify('cam-3', 'token-one-111')).toBe(false);
    expect(registry.verify('cam-3', 'unknown-device')).toBe(false);
  });

  it('takes a token as its sha256, in either case of hex', () => {
    const hashed = createDeviceRegistry([
      { id: 'cam-1', tokenSha256: sha256('token-one-111') },
      { id: 'cam-2', tokenSha256: sha256('token-two-222').toUpperCase() },
    ]);
    expect(hashed.verify('cam-1', 'token-one-111')).toBe(true);
    expect(hashed.verify('cam-2', 'token-two-222')).toBe(true);
    expect(hashed.verify('cam-1', sha256('token-one-111'))).toBe(false);
  });

  it('revokes a device, and keeps that credential out across replacements', () => {
    const r = createDeviceRegistry([
      { id: 'cam-1', token: 'token-one-111' },
      { id: 'cam-2', token: 'token-two-222' },
    ]);
    expect(r.revoke('cam-1')).toBe(true);
    expect(r.revoke('cam-1')).toBe(false);
    expect(r.verify('cam-1', 'token-one-111')).toBe(false);
    expect(r.ids()).toEqual(['cam-2']);
    // Listed again with the revoked token (plain or hashed): still out. With a new one: back in.
    expect(r.replace([{ id: 'cam-1', tokenSha256: sha256('token-one-111') }])).toEqual({
      added: [],
      removed: ['cam-2'],
      changed: [],
      stillRevoked: ['cam-1'],
    });
    expect(r.size).toBe(0);
    expect(r.replace([{ id: 'cam-1', token: 'token-one-new' }])).toMatchObject({ added: ['cam-1'] });
    expect(r.verify('cam-1', 'token-one-new')).toBe(true);
  });

  it('says which devices a replacement added, removed and gave a new token', () => {
    const r = createDeviceRegistry([
      { id: 'a', token: 'token-a-aaaa' },
      { id: 'b', token: 'token-b-bbbb' },
      { id: 'c', token: 'token-c-cccc' },
    ]);
    const change = r.replace([
      { id: 'a', tokenSha256: sha256('token-a-aaaa') },
      { id: 'c', token: 'token-c-new!' },
      { id: 'd', token: 'token-d-dddd' },
    ]);
    expect(change).toEqual({ added: ['d'], removed: ['b'], changed: ['c'], stillRevoked: [] });
    expect(r.verify('a', 'token-a-aaaa')).toBe(true);
    expect(r.verify('b', 'token-b-bbbb')).toBe(false);
    expect(r.verify('c', 'token-c-cccc')).toBe(false);
    expect(r.verify('c', 'token-c-new!')).toBe(true);
  });
});
