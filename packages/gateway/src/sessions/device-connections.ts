import type { WireErrorCode } from '@squeezegate/shared';

/** What the table needs of an authenticated session: a way to end it with a reason. */
export interface ConnectionHandle {
  /** Sends an error (no frame id) and closes the socket with 1008. */
  refuse(code: WireErrorCode, message: string): void;
  /** Sends a text message on the session (the fleet controller's bar). */
  send?(text: string): void;
}

export interface DeviceConnections {
  /** Registers an authenticated session; false, and nothing registered, when the device is at its limit. */
  admit(deviceId: string, handle: ConnectionHandle): boolean;
  release(deviceId: string, handle: ConnectionHandle): void;
  count(deviceId: string): number;
  /** Ends every session of the device with this error; how many there were. */
  refuseAll(deviceId: string, code: WireErrorCode, message: string): number;
  /** Sends a text message on every authenticated session; how many sessions got it. */
  broadcast(text: string): number;
}

/**
 * Live sessions by device. The limit counts sessions past their hello: a device may hold
 * `maxPerDevice` at once (more than one, so an agent can reconnect before the gateway's heartbeat
 * has noticed that its previous connection died).
 */
export function createDeviceConnections(options: { maxPerDevice: number }): DeviceConnections {
  const { maxPerDevice } = options;
  const byDevice = new Map<string, Set<ConnectionHandle>>();
  return {
    admit(deviceId, handle) {
      const handles = byDevice.get(deviceId) ?? new Set();
      if (handles.size >= maxPerDevice) return false;
      handles.add(handle);
      byDevice.set(deviceId, handles);
      return true;
    },
    release(deviceId, handle) {
      const handles = byDevice.get(deviceId);
      handles?.delete(handle);
      if (handles?.size === 0) byDevice.delete(deviceId);
    },
    count: (deviceId) => byDevice.get(deviceId)?.size ?? 0,
    refuseAll(deviceId, code, message) {
      const handles = [...(byDevice.get(deviceId) ?? [])];
      for (const h of handles) h.refuse(code, message);
      return handles.length;
    },
    broadcast(text) {
      let n = 0;
      for (const handles of byDevice.values())
        for (const h of handles) {
          if (!h.send) continue;
          h.send(text);
          n++;
        }
      return n;
    },
  };
}
