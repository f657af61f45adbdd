import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export interface DeviceRegistry {
  /** True when the device is known and the token is its own (constant-time compare). */
  verify(deviceId: string, token: string): boolean;
  readonly size: number;
}

/** Device tokens are kept only as sha256 digests, compared in constant time. */
export function createDeviceRegistry(devices: readonly { id: string; token: string }[]): DeviceRegistry {
  const digests = new Map(devices.map((d) => [d.id, digest(d.token)]));
  // Compared even for unknown devices so the answer takes the same time either way.
  const decoy = digest('unknown-device');
  return {
    verify(deviceId, token) {
      const expected = digests.get(deviceId);
      const same = timingSafeEqual(expected ?? decoy, digest(token));
      return expected !== undefined && same;
    },
    get size() {
      return digests.size;
    },
  };
}
