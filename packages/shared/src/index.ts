export type { LabelledProbs } from './confidence/calibration.ts';
export { eceAt, expectedCalibrationError, fitTemperature, nllAt } from './confidence/calibration.ts';
export type { Scored } from './confidence/fusion.ts';
export { fuseAnswer } from './confidence/fusion.ts';
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
export type { GatewayConfig } from './config/gateway-schema.ts';
export { GatewayConfigSchema } from './config/gateway-schema.ts';
export type {
  CameraConfig,
  CameraSourceConfig,
  ConfigResult,
  DetectConfig,
  EdgeConfig,
  FusionConfig,
  LearnedFeature,
  LearnedRule,
  PayloadCodec,
  PayloadConfig,
  PolicyConfig,
  PolicyKind,
  PrivacyConfig,
  VideoConfig,
} from './config/schemas.ts';
export {
  CameraSchema,
  CameraSourceSchema,
  DETECT_DEFAULTS,
  DetectSchema,
  EdgeConfigSchema,
  FusionSchema,
  LEARNED_FEATURES,
  LearnedRuleSchema,
  LogLevelSchema,
  PAYLOAD_CODECS,
  PayloadSchema,
  PolicySchema,
  PRIVACY_DEFAULTS,
  PrivacySchema,
  parseConfig,
  VIDEO_DEFAULTS,
  VideoSchema,
} from './config/schemas.ts';
export type { EncodingCodec, PayloadEncoding, PayloadShape, ShapedPayload } from './image/payload.ts';
export { CODEC_MIME, encodePayload, shapePayload } from './image/payload.ts';
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
  CameraEvent,
  CameraStats,
  ClassScore,
  ClientTextMessage,
  ErrorMessage,
  FrameHeader,
  Hello,
  Parsed,
  PayloadRedactions,
  PolicyMessage,
  ResultMessage,
  ServerMessage,
  Stats,
  Welcome,
} from './protocol/messages.ts';
export {
  CameraEventSchema,
  CameraIdSchema,
  CameraStatsSchema,
  ClientTextMessageSchema,
  DeviceIdSchema,
  EDGE_WS_PATH,
  ErrorSchema,
  FrameHeaderSchema,
  HelloSchema,
  MAX_CAMERA_EVENTS,
  MAX_CAMERAS,
  MAX_OFFLOAD_REASON,
  PayloadRedactionsSchema,
  PolicyMessageSchema,
  PROTOCOL_VERSION,
  parseJsonMessage,
  ResultSchema,
  ServerMessageSchema,
  StatsSchema,
  WelcomeSchema,
  WireErrorCode,
} from './protocol/messages.ts';

// Detection (DETECTION.md): decoders, detectors, NMS, tiling, evaluation, drawing.

export type { DetectorId, DetectorPreprocess, DetectorSpec } from './detection/catalog.ts';
export {
  DEFAULT_DETECTOR_ID,
  DEFAULT_FACE_DETECTOR_ID,
  DEFAULT_FACE_SEARCH_ID,
  DETECTOR_IDS,
  DETECTORS,
  DetectorPreprocessSchema,
  DetectorSpecSchema,
  FACE_SEARCH_SEPARATOR,
  faceSearchModels,
  getDetectorSpec,
  isFaceSearchId,
} from './detection/catalog.ts';
export type { DecodeOptions, InputMapping, YunetOutputs } from './detection/decode.ts';
export {
  decodePicodet,
  decodeSqueezedet,
  decodeUltraface,
  decodeYolox,
  decodeYunet,
  mapBox,
} from './detection/decode.ts';
export { drawDetections } from './detection/draw.ts';
export type { FaceSearch, FaceSearchOptions, FaceSearchResult, JudgedFace } from './detection/face-search.ts';
export { closeUps, createFaceSearch } from './detection/face-search.ts';
export type { FaceEvidence, FaceQuestions, FaceVerdict, HumanFaceRules } from './detection/human-face.ts';
export { animalMass, HUMAN_FACE_RULES, IMAGENET_ANIMAL_CLASSES, judgeFace } from './detection/human-face.ts';
export type {
  DetectionMetrics,
  EvaluateOptions,
  GroundTruth,
  GroundTruthBox,
  GroundTruthImage,
  ImageEvaluation,
} from './detection/metrics.ts';
export {
  averagePrecision,
  evaluateDetections,
  GroundTruthBoxSchema,
  GroundTruthImageSchema,
  GroundTruthSchema,
  loadGroundTruth,
} from './detection/metrics.ts';
export { mirroredView, mirrorPad } from './detection/mirror.ts';
export type { NmsOptions } from './detection/nms.ts';
export { iou, nms } from './detection/nms.ts';
export type { OnnxDetectorOptions } from './detection/onnx-detector.ts';
export {
  createOnnxDetector,
  dynamicInputSize,
  loadDetectorLabels,
  openDetector,
} from './detection/onnx-detector.ts';
export { ANIMAL_CHECK_MODEL, openFaceSearch } from './detection/open-face-search.ts';
export type { PreparedInput, Region } from './detection/preprocess.ts';
export { prepareInput, prepareMirrored, toPlanar } from './detection/preprocess.ts';
export type { Tile } from './detection/tiling.ts';
export { squareTiles, touchesSeam } from './detection/tiling.ts';
export type { Box, Detection, DetectionResult, DetectOptions, Detector, Point } from './detection/types.ts';
export type { MqttPublisher, MqttPublisherOptions, MqttPublisherStats } from './events/mqtt-publisher.ts';
export { createMqttPublisher, maskUrl, topicLevel } from './events/mqtt-publisher.ts';
export type { RawImage } from './image/raw.ts';
export { decodeImage } from './image/raw.ts';
export { DETECTION_FILES } from './models/catalog.ts';
