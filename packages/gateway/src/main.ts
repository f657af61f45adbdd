#!/usr/bin/env node
// squeezegate-gateway: the only gateway module that touches `process`.
import { ModelLoadError, maskSecrets } from '@squeezegate/shared';
import { pino } from 'pino';
import { reloadDevices } from './auth/reload-devices.ts';
import { GATEWAY_HELP, gatewayConfigFromCli } from './cli-config.ts';
import { TlsSetupError } from './http/listener.ts';
import { createGateway } from './server.ts';

const argv = process.argv.slice(2);
const parsed = await gatewayConfigFromCli(argv, process.env);
if (parsed.ok === 'help') {
  process.stdout.write(GATEWAY_HELP);
  process.exit(0);
}
if (!parsed.ok) {
  process.stderr.write(
    `squeezegate-gateway: invalid configuration\n${parsed.issues.map((i) => `  - ${i}`).join('\n')}\n\nSee squeezegate-gateway --help.\n`,
  );
  process.exit(2);
}
const config = parsed.config;
if (parsed.printConfig) {
  process.stdout.write(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);
  process.exit(0);
}
const logger = pino({
  level: config.logLevel,
  redact: ['token', '*.token', 'devices[*].token', 'adminToken'],
});
if (config.devices.length === 0) logger.warn('no devices configured: every edge connection will be refused');

let gateway: Awaited<ReturnType<typeof createGateway>>;
try {
  gateway = await createGateway({ config, logger });
} catch (err) {
  if (err instanceof ModelLoadError) {
    logger.fatal({ code: err.code, file: err.file }, err.message);
    process.exit(3);
  }
  if (err instanceof TlsSetupError) {
    logger.fatal({ code: err.code, file: err.file, err: err.cause }, err.message);
    process.exit(2);
  }
  logger.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
// SIGHUP: the device list again from the same sources (revocation or a new device, no restart).
let reloading = Promise.resolve();
process.on('SIGHUP', () => {
  reloading = reloading
    .then(async () => {
      const outcome = await reloadDevices({
        load: () => gatewayConfigFromCli(argv, process.env),
        current: config,
        gateway,
        logger,
      });
      if (outcome.ok) logger.info({ ...outcome }, 'devices reloaded');
    })
    .catch((err: unknown) => logger.error({ err }, 'device reload failed; devices unchanged'));
});
