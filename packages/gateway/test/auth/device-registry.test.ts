import { createDeviceRegistry } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

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
});
