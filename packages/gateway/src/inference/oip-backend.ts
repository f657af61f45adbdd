import type { ModelSpec } from '@squeezegate/shared';
import { z } from 'zod';
import { INFERENCE_HEADER_CONTENT_LENGTH, splitBody } from '../oip/binary-data.ts';
import { inferRequest, readLogits } from '../oip/infer-wire.ts';
import type { CloudBackend } from './backend.ts';

export const RemoteBackendErrorCode = {
  /** Bad URL, connection refused, DNS failure, reset. */
  UNREACHABLE: 'REMOTE_UNREACHABLE',
  TIMEOUT: 'REMOTE_TIMEOUT',
  /** The caller's signal aborted the request. */
  ABORTED: 'REMOTE_ABORTED',
  /** The server does not know the model (404 on its ready endpoint). */
  MODEL_UNKNOWN: 'REMOTE_MODEL_UNKNOWN',
  NOT_READY: 'REMOTE_NOT_READY',
  /** 401 or 403: the server wants credentials these headers do not carry. */
  UNAUTHORIZED: 'REMOTE_UNAUTHORIZED',
  /** The remote model's tensors are not what the spec says. */
  MODEL_MISMATCH: 'REMOTE_MODEL_MISMATCH',
  /** A 2xx answer that is not the protocol's JSON (and binary tensor data). */
  BAD_RESPONSE: 'REMOTE_BAD_RESPONSE',
  /** A non-2xx answer to an inference request. */
  INFER_FAILED: 'REMOTE_INFER_FAILED',
  CLOSED: 'REMOTE_BACKEND_CLOSED',
} as const;
export type RemoteBackendErrorCode = (typeof RemoteBackendErrorCode)[keyof typeof RemoteBackendErrorCode];
const Code = RemoteBackendErrorCode;

/** The remote v2 server cannot be used; the message names the URL and what was wrong. */
export class RemoteBackendError extends Error {
  override readonly name = 'RemoteBackendError';
  readonly code: RemoteBackendErrorCode;
  /** The URL the failure is about. */
  readonly url: string;
  constructor(code: RemoteBackendErrorCode, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.url = url;
  }
}

export interface OipBackendOptions {
  /** Base URL of the server, e.g. `http://triton:8000`; `/v2/...` is appended. */
  url: string;
  /** The model's name on that server. */
  model: string;
  spec: ModelSpec;
  /** Per request, reading the answer included. */
  timeoutMs?: number;
  /** Batches in flight at once (the batcher reads it; requests are not queued here). */
  concurrency?: number;
  /** Aborts the readiness checks and every request; the backend is then unusable. */
  signal?: AbortSignal;
  /** Sent with every request, e.g. `{ Authorization: 'Bearer …' }` for a gateway's admin token. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Tensors as binary data (Triton's binary tensor data extension: 602 kB per 224² image instead
   * of about 3 MB of JSON), answers asked for likewise. `false`: plain JSON both ways, for a server
   * without the extension. Default true.
   */
  binary?: boolean;
}

// Answers from another server: known fields are checked, extra ones (Triton adds some) are dropped.
const MetadataTensorSchema = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number().int()),
});
const ModelMetadataSchema = z.object({
  name: z.string(),
  inputs: z.array(MetadataTensorSchema).min(1),
  outputs: z.array(MetadataTensorSchema).min(1),
});
const ErrorBodySchema = z.object({ error: z.string() });

interface Exchange {
  status: number;
  ok: boolean;
  /** The JSON (or, when it is not JSON, the text) of the answer. */
  body: unknown;
  /** The binary tensor data after the JSON, empty without it. */
  binary: Buffer;
}

/**
 * A remote Open Inference Protocol v2 server (Triton, KServe, OpenVINO Model Server…) as the cloud
 * backend. Creation checks that the model is there, ready, and takes and gives the tensors `spec`
 * describes, so a misconfigured URL fails at startup and not on the first frame.
 */
export async function createOipBackend(options: OipBackendOptions): Promise<CloudBackend & AsyncDisposable> {
  const { spec, model, timeoutMs = 10_000, concurrency = 4, headers = {}, binary = true } = options;
  const size = spec.preprocess.centerCrop;
  const plane = 3 * size * size;
  const classes = Number(spec.output.shape.at(-1));
  const base = parseBase(options.url);
  const modelUrl = `${base}/v2/models/${encodeURIComponent(model)}`;
  // Aborted by close(); each request links to it only while in flight (see `exchange`).
  const lifetime = new AbortController();
  let closed = false;
  const closedError = () => new RemoteBackendError(Code.CLOSED, base, `backend for ${base} is closed`);

  const exchange = async (url: string, init: RequestInit = {}): Promise<Exchange> => {
    // Linked by hand, listeners removed in finally: AbortSignal.any() on a long-lived signal leaks
    // in Node 20 (nodejs/node#55351), and this runs once per batch for the life of the process.
    const controller = new AbortController();
    const timeout = AbortSignal.timeout(timeoutMs);
    const sources = [timeout, lifetime.signal, options.signal].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
    for (const s of sources) {
      if (s.aborted) controller.abort(s.reason);
      else s.addEventListener('abort', onAbort, { once: true });
    }
    try {
      const res = await fetch(url, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
        signal: controller.signal,
      });
      const raw = Buffer.from(await res.arrayBuffer());
      const split = splitBody(raw, res.headers.get(INFERENCE_HEADER_CONTENT_LENGTH));
      if (!split.ok) {
        throw new RemoteBackendError(Code.BAD_RESPONSE, url, `${url}: ${split.error}`);
      }
      const { json: text, binary: rest } = split.value;
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON: kept as text for the error message.
      }
      return { status: res.status, ok: res.ok, body, binary: rest };
    } catch (cause) {
      if (cause instanceof RemoteBackendError) throw cause;
      if (lifetime.signal.aborted) throw closedError();
      if (timeout.aborted) {
        throw new RemoteBackendError(Code.TIMEOUT, url, `${url} did not answer within ${timeoutMs} ms`, {
          cause,
        });
      }
      if (options.signal?.aborted)
        throw new RemoteBackendError(Code.ABORTED, url, `request to ${url} aborted`, { cause });
      throw unreachable(cause, url);
    } finally {
      for (const s of sources) s.removeEventListener('abort', onAbort);
    }
  };
  const ready = await exchange(`${modelUrl}/ready`);
  refused(ready, `${modelUrl}/ready`);
  if (ready.status === 404) {
    throw new RemoteBackendError(
      Code.MODEL_UNKNOWN,
      modelUrl,
      `${base} has no model '${model}'${detail(ready.body)}`,
    );
  }
  if (!ready.ok) {
    throw new RemoteBackendError(
      Code.NOT_READY,
      modelUrl,
      `model '${model}' at ${base} is not ready (HTTP ${ready.status})${detail(ready.body)}`,
    );
  }
  const meta = await exchange(modelUrl);
  refused(meta, modelUrl);
  const parsed = ModelMetadataSchema.safeParse(meta.body);
  if (!meta.ok || !parsed.success) {
    const why = meta.ok
      ? `not v2 model metadata (${issues(parsed.error)})`
      : `HTTP ${meta.status}${detail(meta.body)}`;
    throw new RemoteBackendError(
      Code.BAD_RESPONSE,
      modelUrl,
      `metadata of model '${model}' at ${base}: ${why}`,
    );
  }
  const input = parsed.data.inputs[0]!;
  const output = parsed.data.outputs.find((o) => o.name === spec.output.name) ?? parsed.data.outputs[0]!;
  const mismatch = (what: string) =>
    new RemoteBackendError(
      Code.MODEL_MISMATCH,
      modelUrl,
      `model '${model}' at ${base} does not match ${spec.id}: ${what}`,
    );
  const want = [-1, 3, size, size];
  // The batch dimension must be variable (-1): the batcher sends 1..maxBatch items at a time.
  if (parsed.data.inputs.length !== 1 || input.datatype !== 'FP32' || `${input.shape}` !== `${want}`) {
    throw mismatch(
      `it takes ${parsed.data.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join(', ')}; ` +
        `expected one FP32 input [${want.join(',')}]`,
    );
  }
  if (output.datatype !== 'FP32' || output.shape.length !== 2 || output.shape[1] !== classes) {
    throw mismatch(
      `output ${output.name} is ${output.datatype} [${output.shape.join(',')}]; expected FP32 [-1,${classes}]`,
    );
  }

  const close = async () => {
    if (closed) return;
    closed = true;
    lifetime.abort(closedError());
  };

  return {
    spec,
    concurrency,
    async run(inputs) {
      if (closed) throw closedError();
      const n = inputs.length;
      if (n === 0) return [];
      for (const x of inputs) {
        if (x.length !== plane) throw new RangeError(`input has ${x.length} values, expected ${plane}`);
      }
      const url = `${modelUrl}/infer`;
      const res = await exchange(
        url,
        inferRequest(inputs, { binary, input: input.name, output: output.name, size }),
      );
      if (!res.ok) {
        refused(res, url);
        throw new RemoteBackendError(
          Code.INFER_FAILED,
          url,
          `${url} answered HTTP ${res.status}${detail(res.body)}`,
        );
      }
      const logits = readLogits(res.body, res.binary, { n, classes, output: spec.output.name });
      if (!logits.ok) throw new RemoteBackendError(Code.BAD_RESPONSE, url, `${url}: ${logits.error}`);
      return inputs.map((_, i) => logits.value.slice(i * classes, (i + 1) * classes));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** 401/403 mean wrong or missing credentials, whichever call met them: said so, not "not ready". */
function refused(res: Exchange, url: string): void {
  if (res.status !== 401 && res.status !== 403) return;
  throw new RemoteBackendError(
    Code.UNAUTHORIZED,
    url,
    `${url} answered HTTP ${res.status}${detail(res.body)}; check the headers sent to it (remote.headers, --remote-header)`,
  );
}

function parseBase(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new RemoteBackendError(Code.UNREACHABLE, raw, `'${raw}' is not a URL`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RemoteBackendError(Code.UNREACHABLE, raw, `'${raw}' is not an http(s) URL`);
  }
  // A path prefix (an ingress route) is kept; query and fragment are not part of a base.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function unreachable(cause: unknown, url: string): RemoteBackendError {
  // undici's "fetch failed" keeps the reason (ECONNREFUSED, ENOTFOUND…) in its cause.
  const err = cause instanceof Error ? cause : new Error(String(cause));
  const inner = err.cause as { code?: unknown; message?: unknown } | undefined;
  const reason = typeof inner?.code === 'string' ? inner.code : String(inner?.message ?? err.message);
  return new RemoteBackendError(Code.UNREACHABLE, url, `cannot reach ${url}: ${reason}`, { cause });
}

/** The server's own words, if any: its `{"error": …}`, else the start of its text. */
function detail(body: unknown): string {
  const parsed = ErrorBodySchema.safeParse(body);
  if (parsed.success) return `: ${parsed.data.error}`;
  return typeof body === 'string' && body.trim() !== '' ? `: ${body.trim().slice(0, 200)}` : '';
}

function issues(error: z.ZodError | undefined): string {
  return (error?.issues ?? []).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
