import type { DetectConfig, DetectionMetrics, PrivacyConfig } from '@squeezegate/shared';
import type { MachineInfo } from '../machine.ts';
import type { Spread } from './stats.ts';

/** Section 1: one detector over the whole sample. */
export interface DetectorRow {
  id: string;
  family: string;
  role: 'detector' | 'face';
  experimental: boolean;
  /** The model's own threshold (catalog `thresholds.score`), at which everything but AP is counted. */
  scoreThreshold: number;
  /** `detect()` wall time on a decoded frame: resizing, session run, decoding, NMS. */
  latencyMs: Spread;
  /** The session runs alone (`DetectionResult.inferMs`). */
  inferMs: Spread;
  /** Latency p50 over the baseline's (YOLOX-Nano). */
  latencyVsBaseline: number | null;
  detectionsPerFrame: number;
  /** What the accuracy was scored on; null for face models. */
  scoredOn: { images: number; boxes: number; classMap: Readonly<Record<string, string>> } | null;
  accuracy: DetectionMetrics | null;
  /** Face models: faces found on the face photos. */
  faces: { photos: number; found: number; perPhoto: number[] } | null;
}

/** Section 2: one detector, tiling off or auto, on the KITTI frames. */
export interface TilingRow {
  id: string;
  tiling: 'off' | 'auto';
  frames: number;
  passesPerFrame: number;
  latencyMs: Spread;
  /** Latency p50 over the same model's with tiling off. */
  latencyVsOff: number | null;
  /** On the labelled KITTI frames, at the model's threshold (`ap50` ranks only those detections). */
  accuracy: DetectionMetrics;
  labelledFrames: number;
}

/** Section 3: the object-level cascade over one set of frames (or `all`). */
export interface CascadeRow {
  set: string;
  frames: number;
  /** Frames that sent nothing. */
  local: number;
  crops: number;
  /** Empty frames with a near miss, sent downscaled. */
  framePayloads: number;
  capturedBytes: number;
  /** Every frame as a JPEG at the cloud model's short side, same quality and privacy. */
  frameQ85Bytes: number;
  cascadeBytes: number;
  /** Faces obscured in the payloads the cascade sent. */
  facesObscured: number;
  vsCaptured: number | null;
  vsFrameQ85: number | null;
}

export interface CascadeSection {
  detector: string;
  detect: DetectConfig;
  privacy: PrivacyConfig;
  quality: number;
  /** The cloud classifier's view: object crops are cut to `centerCrop`², frames to `resizeShortSide`. */
  cloudView: { resizeShortSide: number; centerCrop: number };
  rows: CascadeRow[];
}

/** Section 4: redaction cost of one payload kind over one set of images. */
export interface RedactionRow {
  images: string;
  payload: string;
  /** Images × runs. */
  samples: number;
  /** Render with redaction minus render without (the face search on the payload and the obscuring). */
  redactionMs: Spread;
  payloadsWithFaces: number;
  facesObscured: number;
  /** Faces the auditors find on the plain payload, and how many they still find after (a leak). */
  residual: { found: number; stillFound: number };
}

export interface PrivacyCostSection {
  faceModel: string;
  faceThreads: number;
  goal: { shortSide: number; ms: number };
  /** IoU at which a face found after redaction counts as the same face. */
  residualIou: number;
  /** The classify agent's payload codec and quality, which sections 4 and 5 render with. */
  encoding: { codec: string; quality: number };
  /** Face models the redaction did not use, at `residualThreshold` (the audit's). */
  auditors: string[];
  residualThreshold: number;
  rows: RedactionRow[];
}

/** Section 5: the cloud classifier on the crop payload with one face mode. */
export interface AccuracyRow {
  /** off, blur, pixelate, or a blur at another face threshold. */
  faces: string;
  top1: number;
  vsPlain: number | null;
  /** Top-1 on the crops in which the blur guard obscured a face (`payloadsWithFaces` of them). */
  top1WithFaces: number | null;
  /** Top-1 on the other crops. */
  top1Others: number | null;
  meanBytes: number;
}

export interface PrivacyAccuracySection {
  classifier: string;
  images: number;
  /** Crop payloads in which a face was obscured (the frame's faces or the crop's second look). */
  payloadsWithFaces: number;
  rows: AccuracyRow[];
  /** Per redaction mode, the images the cloud got right plain and wrong redacted, and back. */
  changed: Record<string, { lost: string[]; gained: string[] }>;
}

export interface DetectBenchResults {
  machine: MachineInfo;
  command: string;
  settings: {
    dataset: string;
    imagenet: string;
    runs: number;
    limit: number;
    /** Every `stride`-th ImageNet image is taken, so the sample spans the classes. */
    stride: number;
    threads: number;
    apFloor: number;
    frames: number;
    sets: Record<string, number>;
  };
  runtimeS: number;
  baseline: string;
  detectors: DetectorRow[];
  tiling: TilingRow[];
  cascade: CascadeSection;
  privacyCost: PrivacyCostSection;
  privacyAccuracy: PrivacyAccuracySection;
}
