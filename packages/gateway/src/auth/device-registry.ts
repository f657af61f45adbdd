import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** A device as configured: its token in plain, or the token's sha256 as hex (exactly one). */
export interface DeviceCredential {
  id: string;
  token?: string | undefined;
  tokenSha256?: string | undefined;
}

/** What replacing the device set did, by device id. */
export interface DeviceSetChange {
  added: string[];
  removed: string[];
  /** Listed before and after, with another token: its live connections authenticated with the old one. */
  changed: string[];
  /** Listed again with the very credential that was revoked: kept out (a new token lets it back in). */
  stillRevoked: string[];
}

export interface DeviceRegistry {
  /** True when the device is known and the token is its own (constant-time compare). */
  verify(deviceId: string, token: string): boolean;
  has(deviceId: string): boolean;
  ids(): string[];
  /**
   * Forgets the device and remembers its credential as revoked, so a reload that still lists it
   * with the same token does not let it back in. False when the device was not known.
   */
  revoke(deviceId: string): boolean;
  /** Replaces the whole set (a configuration reload). */
  replace(devices: readonly DeviceCredential[]): DeviceSetChange;
  /** The sha256 (hex) of the device's credential now; undefined when it is not known. */
  credentialSha256(deviceId: string): string | undefined;
  /** Credentials revoked here or recorded with `revokeCredential`, to share with other replicas. */
  revokedCredentials(): { deviceId: string; sha256: string }[];
  /**
   * Records a revocation made elsewhere (another replica): the credential stays out of later
   * reloads, and the device is forgotten if it holds that very credential now (then true).
   */
  revokeCredential(deviceId: string, sha256: string): boolean;
  readonly size: number;
}

function digestOf(device: DeviceCredential): Buffer {
  if (device.tokenSha256 !== undefined) return Buffer.from(device.tokenSha256, 'hex');
  if (device.token !== undefined) return digest(device.token);
  throw new TypeError(`device "${device.id}" has neither token nor tokenSha256`);
}

/**
 * Device tokens are kept only as sha256 digests (a plain token from the configuration is hashed
 * here and not kept), compared in constant time.
 */
export function createDeviceRegistry(devices: readonly DeviceCredential[]): DeviceRegistry {
  let digests = new Map(devices.map((d) => [d.id, digestOf(d)]));
  const revoked = new Map<string, Buffer>();
  // Compared even for unknown devices so the answer takes the same time either way.
  const decoy = digest('unknown-device');
  return {
    verify(deviceId, token) {
      const expected = digests.get(deviceId);
      const same = timingSafeEqual(expected ?? decoy, digest(token));
      return expected !== undefined && same;
    },
    has: (deviceId) => digests.has(deviceId),
    ids: () => [...digests.keys()],
    revoke(deviceId) {
      const expected = digests.get(deviceId);
      if (expected === undefined) return false;
      digests.delete(deviceId);
      revoked.set(deviceId, expected);
      return true;
    },
    replace(next) {
      const change: DeviceSetChange = { added: [], removed: [], changed: [], stillRevoked: [] };
      const incoming = new Map<string, Buffer>();
      for (const device of next) {
        const d = digestOf(device);
        const wasRevoked = revoked.get(device.id);
        if (wasRevoked?.equals(d)) {
          change.stillRevoked.push(device.id);
          continue;
        }
        revoked.delete(device.id);
        incoming.set(device.id, d);
        const before = digests.get(device.id);
        if (before === undefined) change.added.push(device.id);
        else if (!before.equals(d)) change.changed.push(device.id);
      }
      for (const id of digests.keys()) if (!incoming.has(id)) change.removed.push(id);
      digests = incoming;
      return change;
    },
    credentialSha256: (deviceId) => digests.get(deviceId)?.toString('hex'),
    revokedCredentials: () => [...revoked].map(([deviceId, d]) => ({ deviceId, sha256: d.toString('hex') })),
    revokeCredential(deviceId, sha256) {
      const d = Buffer.from(sha256, 'hex');
      revoked.set(deviceId, d);
      if (!digests.get(deviceId)?.equals(d)) return false;
      digests.delete(deviceId);
      return true;
    },
    get size() {
      return digests.size;
    },
  };
}
