import {
  type Classifier,
  createOnnxClassifier,
  type EdgeConfig,
  loadLabels,
  resolveModel,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { createEdgeAgent } from './agent/edge-agent.ts';
import type { FrameRecord } from './agent/frame-record.ts';
import { createPolicy } from './policy/create-policy.ts';
import { type DirectorySource, openDirectorySource } from './source/directory-source.ts';
import { createGatewayLink, type GatewayLink } from './transport/gateway-link.ts';
import { openSpool } from './transport/spool.ts';

export interface EdgeRuntime {
  readonly source: DirectorySource;
  readonly link: GatewayLink | null;
  readonly classifier: Classifier;
  /** Replays the source through the agent; resolves when every frame has its final result. */
  run(options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface EdgeRuntimeOptions {
  config: Readonly<EdgeConfig>;
  logger: Logger;
  onRecord: (record: FrameRecord) => void;
  /** Pre-loaded classifier (tests, or several agents sharing one); else loaded from config. */
  classifier?: Classifier;
  /** false runs edge-only, with no gateway. */
  connect?: boolean;
}

/**
 * Wires one agent from its config: verifies and loads the edge model, opens the frame source,
 * connects to the gateway. Throws ModelLoadError / SourceError when it cannot start.
 */
export async function createEdgeRuntime(options: EdgeRuntimeOptions): Promise<EdgeRuntime> {
  const { config, logger, onRecord, connect = true } = options;
  const source = await openDirectorySource(config.source);
  const labels = await loadLabels(config.modelsDir);
  const ownsClassifier = options.classifier === undefined;
  const classifier =
    options.classifier ?? (await createOnnxClassifier(await resolveModel(config.model, config.modelsDir)));
  const spool = config.spool ? await openSpool(config.spool) : null;
  if (spool?.stale)
    logger.warn({ stale: spool.stale, dir: config.spool?.dir }, 'removed stale spooled frames');
  const link = connect
    ? await createGatewayLink({
        url: config.gatewayUrl,
        deviceId: config.deviceId,
        token: config.token,
        logger,
        reconnect: config.reconnect,
        spool,
        onLate: (frameId, result) =>
          logger.info({ frameId, label: result.top[0]?.label }, 'late cloud answer; the final result stands'),
      })
    : null;
  const agent = createEdgeAgent({
    deviceId: config.deviceId,
    classifier,
    labels,
    link,
    policy: createPolicy(config.policy),
    payload: config.payload,
    deadlineMs: config.deadlineMs,
    maxInFlight: config.maxInFlight,
    logger,
    onRecord,
  });
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      await link?.close();
      if (ownsClassifier) await classifier.close();
    })();
    return closed;
  };
  return {
    source,
    link,
    classifier,
    run: (runOptions) => agent.run(source, runOptions),
    close,
    [Symbol.asyncDispose]: close,
  };
}
