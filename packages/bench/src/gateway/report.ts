import { describeMachine, type MachineInfo } from '../machine.ts';
import type { HeadlineRow } from '../publish.ts';
import type { LoadResult } from './load.ts';

/** What `bench:gateway` measured, as results.json holds it. */
export interface GatewayBenchResults {
  /** The batched run's frames per second. */
  framesPerSec: number;
  batchedOverUnbatched: number;
  overBareLoop: number;
  p99Ms: number;
  peakRssMb: number;
  overload: { sent: number; results: number; busy: number; errors: number; peakRssMb: number };
  machine: MachineInfo;
  command: string;
  settings: {
    devices: number;
    frames: number;
    window: number;
    workers: number;
    threads: number;
    maxBatch: number;
    maxQueueDelayMs: number;
    overload: number;
  };
  bareLoopFps: number;
  /** batched, unbatched, overload. */
  runs: LoadResult[];
}

/** The bench's section of docs/benchmarks.md: every figure comes from `r`. */
export function gatewayTable(r: GatewayBenchResults): string {
  const row = (x: LoadResult) =>
    `| ${x.label} | ${x.framesPerSec.toFixed(0)} | ${x.latencyMs.p50.toFixed(1)} / ${x.latencyMs.p95.toFixed(1)} / ${x.latencyMs.p99.toFixed(1)} | ${x.meanBatch.toFixed(2)} | ${x.peakRssMb.toFixed(0)} | ${x.results} + ${x.busy} busy of ${x.frames} |`;
  const s = r.settings;
  const o = r.overload;
  return [
    `Produced by \`${r.command}\` on ${describeMachine(r.machine)}, ${r.machine.date.slice(0, 10)}: ${s.devices} devices (worker threads), ${s.frames} frames per run, ${s.window} in flight per device (×${s.overload} for the overload run), gateway with ${s.workers} inference worker(s) × ${s.threads} onnxruntime thread(s), max batch ${s.maxBatch}, max queue delay ${s.maxQueueDelayMs} ms.`,
    '',
    '| run | frames/s | latency p50 / p95 / p99 ms | mean batch | peak RSS MB | answered |',
    '|---|---|---|---|---|---|',
    ...r.runs.map(row),
    `| bare onnxruntime loop | ${r.bareLoopFps.toFixed(0)} | | ${s.maxBatch} | | |`,
    '',
    `Batched over unbatched **${r.batchedOverUnbatched.toFixed(2)}x**; the gateway reaches **${(r.overBareLoop * 100).toFixed(0)} %** of the bare loop; at ${s.overload}x overload ${o.sent} frames were sent and ${answered(r)} (${o.results} results, ${o.busy} busy, ${o.errors} errors), peak RSS ${o.peakRssMb.toFixed(0)} MB.`,
    '',
  ].join('\n');
}

const answered = (r: GatewayBenchResults) => {
  const o = r.overload;
  const lost = o.sent - o.results - o.busy - o.errors;
  return lost === 0 ? 'every one was answered' : `${lost} were never answered`;
};

/** The gateway's rows of the README's headline table. */
export function gatewayHeadline(r: GatewayBenchResults): HeadlineRow[] {
  const s = r.settings;
  const o = r.overload;
  return [
    {
      figure: `Gateway throughput, batched (${s.workers} worker × ${s.threads} threads, ${r.machine.cores} cores)`,
      value: `${r.framesPerSec.toFixed(0)} frames/s, p99 ${r.p99Ms.toFixed(1)} ms`,
    },
    {
      figure: `Frames answered at ${s.overload}x overload (a result, or busy so the edge keeps its own)`,
      value: `${o.results + o.busy} of ${o.sent} (${o.busy} busy)`,
    },
  ];
}
