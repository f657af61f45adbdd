#!/usr/bin/env node
import { once } from 'node:events';
// squeezegate-edge: the agent on a camera. The only edge module that touches `process`.
import { createWriteStream } from 'node:fs';
import { ModelLoadError } from '@squeezegate/shared';
import { pino } from 'pino';
import type { FrameRecord } from './agent/frame-record.ts';
import { summarize } from './agent/summary.ts';
import { EDGE_HELP, edgeConfigFromCli } from './cli-config.ts';
import { createEdgeRuntime } from './runtime.ts';
import { SourceError } from './source/directory-source.ts';

const parsed = edgeConfigFromCli(process.argv.slice(2), process.env);
if (parsed.ok === 'help') {
  process.stdout.write(EDGE_HELP);
  process.exit(0);
}
if (!parsed.ok) {
  process.stderr.write(
    `squeezegate-edge: invalid configuration\n${parsed.issues.map((i) => `  - ${i}`).join('\n')}\n\nSee squeezegate-edge --help.\n`,
  );
  process.exit(2);
}
const config = parsed.config;
const logger = pino({ level: config.logLevel, redact: ['token', '*.token'] }, pino.destination(2));
const out = config.output === '-' ? process.stdout : createWriteStream(config.output);
const records: FrameRecord[] = [];

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'stopping capture; finishing frames in flight');
    controller.abort();
  });
}

let code = 0;
try {
  await using runtime = await createEdgeRuntime({
    config,
    logger,
    onRecord: (record) => {
      records.push(record);
      out.write(`${JSON.stringify(record)}\n`);
    },
  });
  if (runtime.link?.state !== 'open') {
    logger.warn(
      { reason: runtime.link?.lastError },
      'gateway unavailable: every frame keeps its local answer',
    );
  }
  await runtime.run({ signal: controller.signal });
  logger.info({ summary: summarize(records), link: runtime.link?.stats() }, 'run finished');
} catch (err) {
  if (err instanceof ModelLoadError) {
    logger.fatal({ code: err.code, file: err.file }, err.message);
    code = 3;
  } else if (err instanceof SourceError) {
    logger.fatal({ code: err.code }, err.message);
    code = 4;
  } else {
    logger.fatal({ err }, 'agent failed');
    code = 1;
  }
}
if (out !== process.stdout) {
  out.end();
  await once(out, 'finish');
}
logger.flush();
process.exitCode = code;
