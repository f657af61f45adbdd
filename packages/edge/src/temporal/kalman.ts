import type { Box } from '@squeezegate/shared';

/**
 * SORT's constant-velocity Kalman filter on a box (Bewley et al. 2016, §3.2; abewley/sort
 * `KalmanBoxTracker`): state [cx, cy, s, r, vx, vy, vs] with s the area and r the aspect ratio
 * (w / h), measurement [cx, cy, s, r]. The aspect ratio is taken as constant, so it has no
 * velocity. One step per tracker update; the noise matrices are SORT's.
 */
export interface BoxFilter {
  /** State, 7 values. */
  readonly x: Float64Array;
  /** Covariance, 7×7 row-major. */
  readonly P: Float64Array;
}

const N = 7;
const M = 4;
// SORT: R[2:,2:] *= 10 (area and ratio measurements are noisier than the centre).
const R_DIAG = [1, 1, 10, 10];
// SORT: P *= 10, and P[4:,4:] *= 1000 (initial velocities unobserved).
const P0_DIAG = [10, 10, 10, 10, 1e4, 1e4, 1e4];
// SORT: Q[4:,4:] *= 0.01, Q[-1,-1] *= 0.01.
const Q_DIAG = [1, 1, 1, 1, 0.01, 0.01, 1e-4];

/** [cx, cy, s, r] of a box `[x1, y1, x2, y2]`. */
export function measurementOf(box: Box): [number, number, number, number] {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  return [box[0] + w / 2, box[1] + h / 2, w * h, h > 0 ? w / h : 1];
}

export function createBoxFilter(box: Box): BoxFilter {
  const x = new Float64Array(N);
  x.set(measurementOf(box));
  const P = new Float64Array(N * N);
  for (let i = 0; i < N; i++) P[i * N + i] = P0_DIAG[i]!;
  return { x, P };
}

/** The filter's box estimate, `[x1, y1, x2, y2]`. */
export function boxOf(filter: BoxFilter): Box {
  const [cx, cy, s0, r0] = filter.x;
  // A box whose area or ratio ran through zero is degenerate; keep it a point, not NaN.
  const s = Math.max(s0!, 1e-6);
  const r = Math.max(r0!, 1e-6);
  const w = Math.sqrt(s * r);
  const h = s / w;
  return [cx! - w / 2, cy! - h / 2, cx! + w / 2, cy! + h / 2];
}

/** One constant-velocity step: x = F x, P = F P Fᵀ + Q. */
export function predict(filter: BoxFilter): void {
  const { x, P } = filter;
  // SORT: an area about to turn negative stops shrinking.
  if (x[2]! + x[6]! <= 0) x[6] = 0;
  x[0]! += x[4]!;
  x[1]! += x[5]!;
  x[2]! += x[6]!;
  // F = I + E, E[i][i+4] = 1 for i < 3. F P Fᵀ = P + E P + P Eᵀ + E P Eᵀ.
  const FP = new Float64Array(P);
  for (let i = 0; i < 3; i++) for (let j = 0; j < N; j++) FP[i * N + j]! += P[(i + 4) * N + j]!;
  const FPFt = new Float64Array(FP);
  for (let i = 0; i < N; i++) for (let j = 0; j < 3; j++) FPFt[i * N + j]! += FP[i * N + j + 4]!;
  for (let i = 0; i < N; i++) FPFt[i * N + i]! += Q_DIAG[i]!;
  P.set(FPFt);
}

/** Corrects the filter with an observed box (H selects the first four state values). */
export function correct(filter: BoxFilter, box: Box): void {
  const { x, P } = filter;
  const z = measurementOf(box);
  // S = H P Hᵀ + R: the top-left 4×4 block of P plus R.
  const S = new Float64Array(M * M);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < M; j++) S[i * M + j] = P[i * N + j]! + (i === j ? R_DIAG[i]! : 0);
  const Si = invert4(S);
  // K = P Hᵀ S⁻¹ (7×4); P Hᵀ is the first four columns of P.
  const K = new Float64Array(N * M);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < M; j++) {
      let sum = 0;
      for (let k = 0; k < M; k++) sum += P[i * N + k]! * Si[k * M + j]!;
      K[i * M + j] = sum;
    }
  }
  const y = z.map((v, i) => v - x[i]!);
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let k = 0; k < M; k++) sum += K[i * M + k]! * y[k]!;
    x[i]! += sum;
  }
  // P = (I - K H) P = P - K (H P); H P is the first four rows of P.
  const next = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < M; k++) sum += K[i * M + k]! * P[k * N + j]!;
      next[i * N + j]! -= sum;
    }
  }
  P.set(next);
}

/** Gauss-Jordan inverse of a 4×4 matrix with partial pivoting (S is symmetric positive definite). */
function invert4(m: Float64Array): Float64Array {
  const a = new Float64Array(m);
  const inv = new Float64Array(M * M);
  for (let i = 0; i < M; i++) inv[i * M + i] = 1;
  for (let c = 0; c < M; c++) {
    let pivot = c;
    for (let r = c + 1; r < M; r++) if (Math.abs(a[r * M + c]!) > Math.abs(a[pivot * M + c]!)) pivot = r;
    if (pivot !== c) {
      for (let k = 0; k < M; k++) {
        [a[c * M + k], a[pivot * M + k]] = [a[pivot * M + k]!, a[c * M + k]!];
        [inv[c * M + k], inv[pivot * M + k]] = [inv[pivot * M + k]!, inv[c * M + k]!];
      }
    }
    const d = a[c * M + c]!;
    for (let k = 0; k < M; k++) {
      a[c * M + k]! /= d;
      inv[c * M + k]! /= d;
    }
    for (let r = 0; r < M; r++) {
      if (r === c) continue;
      const f = a[r * M + c]!;
      if (f === 0) continue;
      for (let k = 0; k < M; k++) {
        a[r * M + k]! -= f * a[c * M + k]!;
        inv[r * M + k]! -= f * inv[c * M + k]!;
      }
    }
  }
  return inv;
}
