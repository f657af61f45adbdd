export type { DetectAgent, DetectAgentOptions } from './agent/detect-agent.ts';
export { createDetectAgent } from './agent/detect-agent.ts';
export type { DetectRecord, FinalDetection, ObjectOffload } from './agent/detect-record.ts';
export type { DetectSummary } from './agent/detect-summary.ts';
export { summarizeDetections } from './agent/detect-summary.ts';
export type { EdgeAgent, EdgeAgentOptions } from './agent/edge-agent.ts';
export { createEdgeAgent } from './agent/edge-agent.ts';
export type { Answer, CloudOutcome, FrameRecord, TemporalDecision } from './agent/frame-record.ts';
export type { AgentSteps } from './agent/replay.ts';
export type { RunSummary } from './agent/summary.ts';
export { percentile, summarize } from './agent/summary.ts';
// The audit (issue 15): what left, checked by face models the redaction did not use.
export type { AuditDumpOptions, AuditedDumpPayload, Leak } from './audit/audit-dump.ts';
export {
  AuditError,
  AuditErrorCode,
  auditDump,
  defaultAuditorIds,
  readDumpIndex,
  taskOf,
} from './audit/audit-dump.ts';
export type { Auditor, AuditPayloadOptions, PayloadAudit } from './audit/audit-payload.ts';
export { AUDIT_IOU, AUDIT_THRESHOLD, auditPayload } from './audit/audit-payload.ts';
export type { AuditedFace, AuditTally, FoundFace } from './audit/match.ts';
export {
  auditFaces,
  binOf,
  emptyTally,
  LARGE_FACE_PX,
  MAX_SMALL_LEAK_SHARE,
  meetsTargets,
  tally,
  WIDTH_BINS,
} from './audit/match.ts';
export type { NotFace, NotFaces } from './audit/not-faces.ts';
export { NotFacesSchema, notFaces, readNotFaces } from './audit/not-faces.ts';
export type { AuditReport } from './audit/report.ts';
export { formatAudit, summarizeAudit } from './audit/report.ts';
export type { CameraSourceKind } from './cameras/camera-stats.ts';
export type { CameraLane, FrameStep, RunCamerasOptions } from './cameras/scheduler.ts';
export { runCameras } from './cameras/scheduler.ts';
export type { AuditCli, AuditParse } from './cli/audit.ts';
export { AUDIT_HELP, AUDIT_LEAKS_EXIT, auditCommand, parseAuditArgs, runAudit } from './cli/audit.ts';
export { CALIBRATE_HELP, formatCalibration, parseCalibrateArgs } from './cli/calibrate.ts';
export { EDGE_HELP, edgeConfigFromCli } from './cli/edge-config.ts';
export {
  describePolicy,
  fusionFromFlags,
  POLICY_FLAGS,
  POLICY_HELP,
  payloadFromFlags,
  policyFromFlags,
} from './cli/policy-flags.ts';
export { detectFromFlags, parsePolygon, privacyFromFlags, TASK_FLAGS, TASK_HELP } from './cli/task-flags.ts';
export type { CloudClass, CloudVerdict, UnverifiableReason, VerdictOptions } from './detect/cloud-verdict.ts';
export { cloudMass, cloudVerdict, DEFAULT_VERDICT_OPTIONS } from './detect/cloud-verdict.ts';
export {
  COCO_CLASSES,
  COCO_LOOKALIKES,
  COCO_TO_IMAGENET,
  KITTI_ALIASES,
  PERSON_CUES,
} from './detect/imagenet-map.ts';
export type { ObjectPlan } from './detect/object-plan.ts';
export { candidateFloor, isVerifiable, planObjects } from './detect/object-plan.ts';
export type {
  CalibrateOptions,
  CalibrationMethod,
  CalibrationReport,
  CalibrationTarget,
  Interval,
} from './evaluation/calibrate.ts';
export { CALIBRATION_METHODS, CalibrationError, calibrate } from './evaluation/calibrate.ts';
export type { EdgeSignals, SignalCost, SignalledPrediction } from './evaluation/edge-signals.ts';
export {
  computeEdgeSignals,
  joinSignals,
  measureSignalCost,
  POOLED_OUTPUT,
  pooledEdgeModel,
} from './evaluation/edge-signals.ts';
export type { LogisticFit, LogisticOptions } from './evaluation/logistic.ts';
export { fitDeferralRule, fitLogistic, logisticScore } from './evaluation/logistic.ts';
export type { PredictDatasetOptions } from './evaluation/predict-dataset.ts';
export { predictDataset } from './evaluation/predict-dataset.ts';
export type { PredictSignalsOptions } from './evaluation/predict-signals.ts';
export { predictDatasetWithSignals } from './evaluation/predict-signals.ts';
export type { CloudVariant, CloudView, FramePrediction, PredictOptions } from './evaluation/predictions.ts';
export {
  agentVariant,
  payloadOf,
  predictSet,
  privacyKey,
  variantOf,
  withFusion,
} from './evaluation/predictions.ts';
export { poisson1, quantile, seededRandom, shuffled } from './evaluation/random.ts';
export type { FittedScorer, Scorer, SignalScorer } from './evaluation/scorers.ts';
export {
  argmax,
  calibrationError,
  fitScorer,
  SIGNAL_SCORERS,
  SignalsMissingError,
} from './evaluation/scorers.ts';
export type { CurvePoint, Outcome } from './evaluation/sweep.ts';
export { curveByScore, minOffloadFor, oracleMask, pointForSet } from './evaluation/sweep.ts';
export { createPolicy, DEFAULT_ALT_MODEL, extraPassesFor } from './policy/create-policy.ts';
export type { Decision, Policy, PolicyInput } from './policy/decision.ts';
export type { OpenedExtraPasses } from './policy/extra-passes.ts';
export { mirrorView, openExtraPasses, runExtraPasses } from './policy/extra-passes.ts';
export type { EdgeExtras, ExtraNeeds } from './policy/features.ts';
export {
  ALT_FEATURES,
  BASE_FEATURES,
  edgeFeatures,
  extrasNeeded,
  FLIP_FEATURES,
  featureVector,
  MissingExtraError,
} from './policy/features.ts';
export type { FleetBar } from './policy/fleet-bar.ts';
export { createFleetBar, underFleetBar } from './policy/fleet-bar.ts';
export { deferralScore } from './policy/learned.ts';
export type { DumpEntry, PayloadDump, SentPayload } from './privacy/payload-dump.ts';
export {
  DUMP_INDEX,
  DumpEntrySchema,
  dumpFileName,
  extensionOf,
  openPayloadDump,
} from './privacy/payload-dump.ts';
export type {
  FaceScan,
  GuardedPayload,
  LedgerEntry,
  PrivacyGuard,
  PrivacyGuardOptions,
  RedactionSummary,
} from './privacy/privacy-guard.ts';
export { createPrivacyGuard, PrivacyLedgerError } from './privacy/privacy-guard.ts';
export type { Cut, Frame, Polygon, Region } from './privacy/redact.ts';
export { classificationCut, cutFrom, padBox, renderPayload, squareAround } from './privacy/redact.ts';
export type { DetectRuntime, DetectRuntimeOptions, EdgeRuntime, EdgeRuntimeOptions } from './runtime.ts';
export { createDetectRuntime, createEdgeRuntime } from './runtime.ts';
export type { EventSink, SinkStats } from './sinks/event-sink.ts';
export { fanOut } from './sinks/event-sink.ts';
export type { JsonlSinkOptions } from './sinks/jsonl-sink.ts';
export { EventSinkError, openJsonlSink } from './sinks/jsonl-sink.ts';
export type { MqttSink, MqttSinkOptions, MqttSinkStats } from './sinks/mqtt-sink.ts';
export { createMqttSink } from './sinks/mqtt-sink.ts';
export type { DirectorySource, DirectorySourceOptions, SourceFrame } from './source/directory-source.ts';
export { openDirectorySource, SourceError } from './source/directory-source.ts';
export type { FfmpegInfo, FfmpegOrigin, LocateFfmpegOptions } from './source/ffmpeg.ts';
export { locateFfmpeg, packagedFfmpegPath, probeFfmpeg } from './source/ffmpeg.ts';
export type { FfmpegSourceOptions } from './source/ffmpeg-source.ts';
export { createFfmpegSource } from './source/ffmpeg-source.ts';
export type {
  BackoffOptions,
  CapturedFrame,
  FrameSource,
  Gap,
  Scale,
  SourceHooks,
  SourceStats,
  Timers,
} from './source/frame-source.ts';
export type { FrameSourceSpec, SourceKind } from './source/open-source.ts';
export { cameraIdFrom, classifySource, openFrameSource } from './source/open-source.ts';
export { scaledSize } from './source/scale.ts';
export type { SnapshotSourceOptions } from './source/snapshot-source.ts';
export { createSnapshotSource } from './source/snapshot-source.ts';
export { redactUrl, SourceErrorCode } from './source/source-error.ts';
export type { TrackEventBuilder, TrackEventOptions } from './temporal/events.ts';
export { createTrackEventBuilder } from './temporal/events.ts';
export type {
  CameraEvent,
  FrigateBox,
  FrigateObject,
  FrigateSnapshot,
  SceneEvent,
  SceneState,
  TrackEvent,
} from './temporal/frigate.ts';
export type {
  HoldReason,
  OffloadDecision,
  OffloadReason,
  OffloadRuleOptions,
  SentCrop,
  UncertainBand,
} from './temporal/offload-rule.ts';
export { offloadDue } from './temporal/offload-rule.ts';
export type { SceneEventBuilder, SceneEventOptions } from './temporal/scene-events.ts';
export { createSceneEventBuilder } from './temporal/scene-events.ts';
export type {
  ChangeReason,
  GateCounts,
  GateDecision,
  GateFrame,
  SceneGate,
  SceneGateOptions,
} from './temporal/scene-gate.ts';
export { createSceneGate } from './temporal/scene-gate.ts';
export type {
  BestFrame,
  Track,
  Tracker,
  TrackerOptions,
  TrackerUpdate,
  TrackInput,
} from './temporal/tracker.ts';
export { createTracker } from './temporal/tracker.ts';
export type { BackoffBounds, ReconnectPlan } from './transport/backoff.ts';
export { backoffCeilingMs, fullJitterMs, planReconnect } from './transport/backoff.ts';
export type { BusyHold, BusyHoldOptions } from './transport/busy-hold.ts';
export { createBusyHold } from './transport/busy-hold.ts';
export type {
  GatewayLink,
  GatewayLinkOptions,
  LinkAnswer,
  LinkState,
  LinkStats,
  LinkTrace,
} from './transport/gateway-link.ts';
export { createGatewayLink } from './transport/gateway-link.ts';
