#!/usr/bin/env node
// squeezegate-gateway: the only gateway module that touches `process`.
import { ModelLoadError, maskSecrets } from '@squeezegate/shared';
import { pino } from 'pino';
import { GATEWAY_HELP, gatewayConfigFromCli } from './cli-config.ts';
import { createGateway } from './server.ts';

const parsed = await gatewayConfigFromCli(process.argv.slice(2), process.env);
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
