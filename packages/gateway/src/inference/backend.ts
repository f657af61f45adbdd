import type { FrameView, ModelSpec } from '@squeezegate/shared';

/** An image as a device sent it, not yet decoded: the backend that can decodes it off the event loop. */
export interface EncodedImage {
  bytes: Buffer;
  view: FrameView;
}

/** What a batch holds: tensors (the v2 API's requests) and images (the devices' frames). */
export type BatchItem = Float32Array | EncodedImage;

/** One item's output from `runItems`: its logits, or why its image could not be decoded. */
export type ItemResult = { ok: true; logits: Float32Array } | { ok: false; undecodable: string };

/**
 * Runs the cloud model on preprocessed tensors. Two implementations: onnxruntime-node in worker
 * threads (local-backend.ts) and a remote Open Inference Protocol v2 server (oip-backend.ts),
 * so a fleet that outgrows one machine points the gateway at Triton/KServe and changes nothing else.
 */
export interface CloudBackend {
  /** What the model takes and gives: input/output names, crop size, preprocessing. */
  readonly spec: ModelSpec;
  /** The model's raw output (logits, `spec.output.shape[1]` per item) for each input. */
  run(inputs: readonly Float32Array[]): Promise<Float32Array[]>;
  /**
   * Decodes and preprocesses the images of a batch where the model runs (the local backend's
   * workers), then runs it. A backend without it gets tensors decoded on the gateway's side.
   */
  runItems?(items: readonly BatchItem[]): Promise<ItemResult[]>;
  /** How many batches it can run at once (workers, or remote concurrency). */
  readonly concurrency: number;
  close(): Promise<void>;
}

/** What happened to one tensor submitted for cloud inference. */
export type InferOutcome =
  | { kind: 'ok'; logits: Float32Array; batchSize: number; queueMs: number; inferMs: number }
  | { kind: 'busy'; queued: number }
  | { kind: 'failed'; message: string };

/** What happened to one image submitted for cloud inference: also, its bytes were not an image. */
export type ImageOutcome = InferOutcome | { kind: 'undecodable'; message: string };

export const isEncodedImage = (item: BatchItem): item is EncodedImage => !(item instanceof Float32Array);
