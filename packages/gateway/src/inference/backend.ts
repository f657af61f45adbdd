import type { ModelSpec } from '@squeezegate/shared';

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
  /** How many batches it can run at once (workers, or remote concurrency). */
  readonly concurrency: number;
  close(): Promise<void>;
}

/** What happened to one tensor submitted for cloud inference. */
export type InferOutcome =
  | { kind: 'ok'; logits: Float32Array; batchSize: number; queueMs: number; inferMs: number }
  | { kind: 'busy'; queued: number }
  | { kind: 'failed'; message: string };
