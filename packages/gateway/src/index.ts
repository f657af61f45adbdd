export type { DeviceCredential, DeviceRegistry, DeviceSetChange } from './auth/device-registry.ts';
export { createDeviceRegistry } from './auth/device-registry.ts';
export type { DeviceReload, ReloadDevicesOptions } from './auth/reload-devices.ts';
export { reloadDevices } from './auth/reload-devices.ts';
export { GATEWAY_HELP, gatewayConfigFromCli } from './cli-config.ts';
export type { DeviceState, MqttEvents, MqttEventsOptions, MqttEventsStats } from './events/mqtt-events.ts';
export { createMqttEvents } from './events/mqtt-events.ts';
export type {
  FleetBudget,
  FleetController,
  FleetControllerOptions,
  FleetSample,
  FleetStep,
} from './fleet/controller.ts';
export { createFleetController } from './fleet/controller.ts';
export type { FleetControl, FleetControlOptions } from './fleet/fleet-control.ts';
export { createFleetControl } from './fleet/fleet-control.ts';
export { requireAdmin } from './http/admin-auth.ts';
export type { AdminRoutesOptions, Revocation } from './http/admin-routes.ts';
export { createAdminRoutes } from './http/admin-routes.ts';
export type { HealthSource } from './http/app.ts';
export { createHttpApp } from './http/app.ts';
export type { DashboardRoutesOptions } from './http/dashboard.ts';
export { createDashboardRoutes } from './http/dashboard.ts';
export type { PayloadPreviewAccess } from './http/dashboard-payload-routes.ts';
export { createPayloadRoutes } from './http/dashboard-payload-routes.ts';
export { TlsErrorCode, TlsSetupError } from './http/listener.ts';
export type { OipModel, OipRoutesOptions } from './http/oip-v2.ts';
export { createOipRoutes } from './http/oip-v2.ts';
export type { CloudBackend, InferOutcome } from './inference/backend.ts';
export type { Batcher, BatcherOptions, BatcherStats } from './inference/batcher.ts';
export { createBatcher } from './inference/batcher.ts';
export type { CloudAnswer, CloudInference } from './inference/cloud-inference.ts';
export { createCloudInference } from './inference/cloud-inference.ts';
export type { LocalBackendOptions } from './inference/local-backend.ts';
export { createLocalBackend } from './inference/local-backend.ts';
export type { OipBackendOptions } from './inference/oip-backend.ts';
export { createOipBackend, RemoteBackendError, RemoteBackendErrorCode } from './inference/oip-backend.ts';
export type { FairShare, FairShareSlot, FairShareStats } from './limits/fair-share.ts';
export { createFairShare } from './limits/fair-share.ts';
export type {
  FrameRateLimiter,
  FrameRateLimiterOptions,
  MemoryFrameRateLimiter,
} from './limits/frame-rate.ts';
export { createFrameRateLimiter } from './limits/frame-rate.ts';
export type {
  DecisionView,
  DeviceView,
  FleetEvent,
  FleetMonitor,
  FleetSnapshot,
  PeerView,
} from './monitor/fleet-monitor.ts';
export { createFleetMonitor } from './monitor/fleet-monitor.ts';
export type { GatewayMetrics } from './monitor/metrics.ts';
export { createGatewayMetrics } from './monitor/metrics.ts';
export type {
  PayloadPreview,
  PayloadPreviewOptions,
  PreviewEntry,
  PreviewStats,
} from './monitor/payload-preview.ts';
export { createPayloadPreview } from './monitor/payload-preview.ts';
export type { BinaryResult, SplitBody } from './oip/binary-data.ts';
export {
  BINARY_CONTENT_TYPE,
  bytesToFloat32,
  decodeBytesElements,
  encodeBytesElements,
  float32ToBytes,
  INFERENCE_HEADER_CONTENT_LENGTH,
  joinBody,
  sliceBinary,
  splitBody,
} from './oip/binary-data.ts';
export type { Gateway, GatewayOptions } from './server.ts';
export { createGateway } from './server.ts';
export type { ConnectionHandle, DeviceConnections } from './sessions/device-connections.ts';
export { createDeviceConnections } from './sessions/device-connections.ts';
export type { GatewayCounters } from './sessions/edge-session.ts';
export { CloseCode } from './sessions/edge-session.ts';
export type { FrameClaim, FrameLedger, MemoryFrameLedger } from './sessions/frame-ledger.ts';
export { createFrameLedger } from './sessions/frame-ledger.ts';
export type {
  GatewayState,
  GatewayStateOptions,
  RevocationStore,
  RevokedCredential,
  StateHealth,
} from './state/gateway-state.ts';
export { createGatewayState } from './state/gateway-state.ts';
export type { SharedFleetOptions } from './state/redis-fleet.ts';
export { createSharedFleet } from './state/redis-fleet.ts';
export type { SharedLedger, SharedLedgerOptions } from './state/redis-ledger.ts';
export { createSharedLedger } from './state/redis-ledger.ts';
export type { RedisHealth, RedisLink, RedisLinkOptions } from './state/redis-link.ts';
export { createRedisLink, redisTarget } from './state/redis-link.ts';
export type { SharedRateLimiterOptions } from './state/redis-rate-limit.ts';
export { createSharedRateLimiter } from './state/redis-rate-limit.ts';
export type { SharedRevocationsOptions } from './state/redis-revocations.ts';
export { createSharedRevocations } from './state/redis-revocations.ts';
