export const ModelErrorCode = {
  MISSING: 'MODEL_MISSING',
  SIZE: 'MODEL_SIZE_MISMATCH',
  CHECKSUM: 'MODEL_CHECKSUM_MISMATCH',
  UNKNOWN: 'MODEL_UNKNOWN',
  LOAD: 'MODEL_LOAD_FAILED',
  FETCH: 'MODEL_FETCH_FAILED',
} as const;
export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];

/** A model or label file that cannot be used; the message says which file and what to do. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  readonly code: ModelErrorCode;
  readonly file: string;
  constructor(code: ModelErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.file = file;
  }
}
