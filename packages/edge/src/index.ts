export type { EdgeAgent, EdgeAgentOptions } from './agent/edge-agent.ts';
export { createEdgeAgent } from './agent/edge-agent.ts';
export type { Answer, CloudOutcome, FrameRecord } from './agent/frame-record.ts';
export type { RunSummary } from './agent/summary.ts';
export { percentile, summarize } from './agent/summary.ts';
export { EDGE_HELP, edgeConfigFromCli } from './cli-config.ts';
export type { Decision } from './policy/threshold.ts';
export { decide } from './policy/threshold.ts';
export type { EdgeRuntime, EdgeRuntimeOptions } from './runtime.ts';
export { createEdgeRuntime } from './runtime.ts';
export type { DirectorySource, DirectorySourceOptions, SourceFrame } from './source/directory-source.ts';
export { openDirectorySource, SourceError } from './source/directory-source.ts';
export type {
  GatewayLink,
  GatewayLinkOptions,
  LinkAnswer,
  LinkState,
  LinkStats,
} from './transport/gateway-link.ts';
export { createGatewayLink } from './transport/gateway-link.ts';
