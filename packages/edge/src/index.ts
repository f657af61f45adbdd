export type { DetectAgentOptions } from './agent/detect-agent.ts';
export { createDetectAgent } from './agent/detect-agent.ts';
export type { DetectRecord, FinalDetection, ObjectOffload } from './agent/detect-record.ts';
export type { DetectSummary } from './agent/detect-summary.ts';
export { summarizeDetections } from './agent/detect-summary.ts';
export type { EdgeAgent, EdgeAgentOptions } from './agent/edge-agent.ts';
export { createEdgeAgent } from './agent/edge-agent.ts';
export type { Answer, CloudOutcome, FrameRecord } from './agent/frame-record.ts';
export type { RunSummary } from './agent/summary.ts';
export { percentile, summarize } from './agent/summary.ts';
export { CALIBRATE_HELP, formatCalibration, parseCalibrateArgs } from './cli/calibrate.ts';
export { EDGE_HELP, edgeConfigFromCli } from './cli/edge-config.ts';
export {
  describePolicy,
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
  CalibrationReport,
  CalibrationTarget,
  Interval,
} from './evaluation/calibrate.ts';
export { CalibrationError, calibrate } from './evaluation/calibrate.ts';
export { fitDeferralRule } from './evaluation/logistic.ts';
export type { PredictDatasetOptions } from './evaluation/predict-dataset.ts';
export { predictDataset } from './evaluation/predict-dataset.ts';
export type { CloudVariant, CloudView, FramePrediction, PredictOptions } from './evaluation/predictions.ts';
export { payloadOf, predictSet, variantOf } from './evaluation/predictions.ts';
export { poisson1, quantile, seededRandom, shuffled } from './evaluation/random.ts';
export type { FittedScorer, Scorer } from './evaluation/scorers.ts';
export { argmax, calibrationError, fitScorer } from './evaluation/scorers.ts';
export type { CurvePoint, Outcome } from './evaluation/sweep.ts';
export { curveByScore, minOffloadFor, oracleMask, pointForSet } from './evaluation/sweep.ts';
export { createPolicy } from './policy/create-policy.ts';
export type { Decision, Policy, PolicyInput } from './policy/decision.ts';
export { edgeFeatures } from './policy/features.ts';
export { deferralScore } from './policy/learned.ts';
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
export { classificationCut, padBox, renderPayload, squareAround } from './privacy/redact.ts';
export type { DetectRuntime, DetectRuntimeOptions, EdgeRuntime, EdgeRuntimeOptions } from './runtime.ts';
export { createDetectRuntime, createEdgeRuntime } from './runtime.ts';
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
