export type { LabelledProbs } from './confidence/calibration.ts';
export { eceAt, expectedCalibrationError, fitTemperature, nllAt } from './confidence/calibration.ts';
export type { ConfidenceMeasure, Ranked } from './confidence/measures.ts';
export {
  CONFIDENCE_MEASURES,
  confidence,
  confidences,
  softmax,
  temper,
  topK,
} from './confidence/measures.ts';
export type { CliInput } from './config/cli.ts';
export { definedOnly, numberOrUndefined, readCli } from './config/cli.ts';
export type { ConfigFileResult } from './config/files.ts';
export { maskSecrets, readConfigFile } from './config/files.ts';
export type {
  ConfigResult,
  EdgeConfig,
  GatewayConfig,
  LearnedFeature,
  LearnedRule,
  PayloadConfig,
  PolicyConfig,
  PolicyKind,
} from './config/schemas.ts';
export {
  EdgeConfigSchema,
  GatewayConfigSchema,
  LEARNED_FEATURES,
  LearnedRuleSchema,
  LogLevelSchema,
  PayloadSchema,
  PolicySchema,
  parseConfig,
} from './config/schemas.ts';
export type { ShapedPayload } from './image/payload.ts';
export { shapePayload } from './image/payload.ts';
export type { FrameView, ModelView } from './image/preprocess.ts';
export {
  encodeJpeg,
  ImageDecodeError,
  ImageErrorCode,
  toModelView,
  toTensorData,
} from './image/preprocess.ts';
export type { Classification, Classifier, OnnxClassifierOptions } from './inference/onnx-classifier.ts';
export { createOnnxClassifier } from './inference/onnx-classifier.ts';
export type { FileSpec, ModelId, ModelSpec, Preprocess } from './models/catalog.ts';
export { ALL_FILES, getModelSpec, LABEL_FILE, MODEL_IDS, MODELS, ModelSpecSchema } from './models/catalog.ts';
export { ModelErrorCode, ModelLoadError } from './models/errors.ts';
export type { FetchOptions, FetchOutcome, FetchProgress } from './models/fetch.ts';
export { fetchModels } from './models/fetch.ts';
export type { ResolvedModel } from './models/resolve.ts';
export { loadLabels, resolveModel, resolveModelsDir, sha256File, verifyFile } from './models/resolve.ts';
export type { FrameEnvelope } from './protocol/envelope.ts';
export { decodeFrame, encodeFrame, MAX_HEADER_BYTES } from './protocol/envelope.ts';
export type {
  ClassScore,
  ClientTextMessage,
  ErrorMessage,
  FrameHeader,
  Hello,
  Parsed,
  ResultMessage,
  ServerMessage,
  Stats,
  Welcome,
} from './protocol/messages.ts';
export {
  ClientTextMessageSchema,
  DeviceIdSchema,
  EDGE_WS_PATH,
  ErrorSchema,
  FrameHeaderSchema,
  HelloSchema,
  PROTOCOL_VERSION,
  parseJsonMessage,
  ResultSchema,
  ServerMessageSchema,
  StatsSchema,
  WelcomeSchema,
  WireErrorCode,
} from './protocol/messages.ts';
