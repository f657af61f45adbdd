import type { ConfigResult, GatewayConfig } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { DeviceCredential, DeviceSetChange } from './device-registry.ts';

/** What a reload did: the new device set applied, or the configuration refused (nothing changed). */
export type DeviceReload =
  | ({ ok: true; devices: number; closed: number; needRestart: string[] } & DeviceSetChange)
  | { ok: false; issues: string[] };

export interface ReloadDevicesOptions {
  /** Resolves the configuration again, exactly as at start (file, environment, flags). */
  load: () => Promise<ConfigResult<GatewayConfig> | { ok: 'help' }>;
  /** The configuration the gateway runs with. */
  current: Readonly<GatewayConfig>;
  gateway: {
    replaceDevices(devices: readonly DeviceCredential[]): DeviceSetChange & { closed: number };
  };
  logger: Logger;
}

/**
 * Re-reads the configuration and replaces the gateway's devices with the ones it lists (the
 * gateway's answer to SIGHUP). Connections of devices no longer listed, or listed with another
 * token, are closed with 1008. Only the devices change: other settings that differ are named in
 * `needRestart`. An invalid configuration changes nothing.
 */
export async function reloadDevices(options: ReloadDevicesOptions): Promise<DeviceReload> {
  const { current, gateway } = options;
  const log = options.logger.child({ component: 'reload' });
  const loaded = await options.load();
  if (loaded.ok !== true) {
    const issues = loaded.ok === 'help' ? ['--help is not a configuration'] : loaded.issues;
    log.error({ issues }, 'configuration reload refused; devices unchanged');
    return { ok: false, issues };
  }
  const next = loaded.config;
  const needRestart = Object.keys({ ...current, ...next }).filter(
    (key) =>
      key !== 'devices' &&
      JSON.stringify(current[key as keyof GatewayConfig]) !==
        JSON.stringify(next[key as keyof GatewayConfig]),
  );
  const change = gateway.replaceDevices(next.devices);
  if (needRestart.length > 0) log.warn({ settings: needRestart }, 'changed settings take effect on restart');
  return { ok: true, devices: next.devices.length - change.stillRevoked.length, needRestart, ...change };
}
