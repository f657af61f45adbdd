// The fuzz run's plan and vocabulary (fuzz.test.ts): the seed, how many cases of each category,
// and what a case is. Every case is rebuilt from the seed and its index alone (cases.ts), so a
// failure reproduces with `makeCase(SEED, index, …)`.
import { randomInt } from '../../support/prng.ts';

export const SEED = 0x5eed_f022;
export const MAX_PAYLOAD = 256 * 1024;
export const FUZZ_DEVICE = { id: 'fuzz-1', token: 'fuzz-token-0123456789' } as const;
export const HONEST_DEVICE = { id: 'honest-1', token: 'honest-token-0123456789' } as const;
/** Per-frame answers a frame of any bytes may get; INFERENCE_FAILED would mean a gateway fault. */
export const FRAME_ERRORS = ['IMAGE_UNDECODABLE', 'BUSY', 'RATE_LIMITED'] as const;
export const SHED = ['BUSY', 'RATE_LIMITED'] as const;

/** Cases per category: cheap protocol-level ones dominate, image decodes are ~1.5k frames. */
export const PLAN = {
  'prehello-text-bytes': 700,
  'prehello-binary': 600,
  'prehello-unicode': 400,
  'hello-malformed': 2000,
  'hello-valid': 100,
  'session-text': 1000,
  'session-stats': 400,
  'envelope-prefix': 1200,
  'envelope-header': 1500,
  'image-garbage': 1200,
  'image-giant': 90,
  'image-bomb': 10,
  'image-valid': 150,
  'image-burst': 50,
  oversized: 200,
  'ws-frame': 400,
  churn: 500,
} as const;
export type Category = keyof typeof PLAN;
export const BURST = 16;

/** One WebSocket message: text frames may carry invalid UTF-8 on purpose. */
export interface Wire {
  data: Buffer;
  binary: boolean;
}

/** What the gateway may correctly do with a case's input; anything else is a violation. */
export interface Expect {
  /** Each frame id gets its own answer (a result, or an error with one of `errors`), the socket stays up. */
  answers?: { frameIds: readonly string[]; errors: readonly string[]; top1?: number };
  welcome?: true;
  /** No answer and the socket stays up (the runner checks with a probe frame). */
  silent?: true;
  /** An error without frame id with one of these codes, then close 1008. */
  refusal?: readonly string[];
  /** A close with one of these codes, nothing else said (besides a welcome, for raw cases). */
  close?: readonly number[];
  /** The upgrade is answered with one of these HTTP statuses. */
  http?: readonly number[];
}

/** A client speaking raw TCP, for what the ws client will not send. */
export interface RawPlan {
  /** The upgrade request; `partial` sends half of it. */
  request: { path: string; version: string; partial?: boolean; method?: string };
  /** Masked frames (or raw bytes) written after the upgrade, in one write. */
  frames: readonly Buffer[];
  /** `wait`: for the server's close; `destroy`: reset at once; `end`: half-close, the server must close. */
  end: 'wait' | 'destroy' | 'end';
}

export type ChurnPlan =
  | { kind: 'abort-connecting' }
  | { kind: 'idle-terminate'; afterMs: number }
  | { kind: 'close-after-hello' }
  | { kind: 'terminate-mid-send'; frame: Buffer }
  | { kind: 'close-with-frames-in-flight'; frames: readonly Buffer[] };

export type FuzzCase = { index: number; category: Category; note: string } & (
  | { stage: 'fresh' | 'session'; send: readonly Wire[]; expect: Expect }
  | { stage: 'raw'; raw: RawPlan; expect: Expect | null }
  | { stage: 'churn'; churn: ChurnPlan }
);

/** Images the cases cut up: dataset JPEGs, small re-encodings, and crafted giants and bombs. */
export interface Assets {
  tench: Buffer;
  jpegs: readonly Buffer[];
  small: { jpeg: Buffer; png: Buffer; webp: Buffer };
  /** Declaring sizes past the gateway's pixel limit: refused from the header alone. */
  giants: readonly { note: string; bytes: Buffer }[];
  /** Valid images within the pixel limit that cost a decoder hundreds of MB or seconds; some sent several at once. */
  bombs: readonly { note: string; images: readonly Buffer[] }[];
}

export type Rng = () => number;
/** An input and what it is, for the report. */
export type Named = [note: string, bytes: Buffer];
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
export const bin = (data: Buffer): Wire => ({ data, binary: true });
