// bench:edge's figures and the table it writes into docs/benchmarks.md.
import { PayloadSchema, PolicySchema, PRIVACY_DEFAULTS } from '@squeezegate/shared';
import { describeMachine, type MachineInfo } from '../machine.ts';

/** What the agent runs with no flags, as its config schemas say (not typed here). */
function defaultsLabel(): string {
  const policy = PolicySchema.parse({ kind: 'threshold' });
  const payload = PayloadSchema.parse({});
  const bar = policy.kind === 'threshold' ? `${policy.measure} < ${policy.threshold}` : policy.kind;
  return `${bar}, ${payload.kind} ${payload.codec} q${payload.quality}, faces ${PRIVACY_DEFAULTS.faces}`;
}

export const EDGE_GOAL = 1.15;

export interface EdgeBenchResults {
  machine: MachineInfo;
  command: string;
  settings: {
    dataset: string;
    video: string;
    frames: number;
    warmup: number;
    fps: number;
    cameras: number;
    model: string;
    ffmpeg: string;
  };
  /** Images: the bare loop, the agent with `--policy never --faces off`, the agent with its defaults. */
  floorMsPerFrame: number;
  agentMsPerFrame: number;
  overFloor: number;
  defaultsMsPerFrame: number;
  /** Peak RSS of the never/off agent on images, MiB. */
  rssMb: number;
  /** Video (gate off, so that every frame goes through the model): frames measured in each. */
  videoFrames: { floor: number; agent: number };
  videoFloorMsPerFrame: number;
  videoAgentMsPerFrame: number;
  videoOverFloor: number;
  /** Peak RSS of one agent (node and its ffmpeg children) with 1 and with `cameras` cameras. */
  rssOneCameraMb: number;
  rssCamerasMb: number;
  runtimeS: number;
}

const ms = (v: number) => v.toFixed(2);
const ratio = (v: number) => `${v.toFixed(2)}×`;

/** The markdown section: what was run, on what, and the figures against the goal. */
export function edgeTable(r: EdgeBenchResults): string {
  const s = r.settings;
  const met = r.overFloor <= EDGE_GOAL;
  return [
    `Produced by \`${r.command}\` on ${describeMachine(r.machine)}, ${r.machine.date.slice(0, 10)}, in ${Math.round(r.runtimeS)} s: ${s.model}, one onnxruntime thread; ${s.frames} measured images of \`${s.dataset}\` after ${s.warmup} of warm-up; \`${s.video}\` at ${s.fps} fps (${r.videoFrames.agent} measured frames); ${s.ffmpeg}.`,
    '',
    '| path | floor, CPU ms/frame | agent, CPU ms/frame | agent / floor |',
    '|---|---|---|---|',
    `| images, \`--policy never --faces off\` | ${ms(r.floorMsPerFrame)} | ${ms(r.agentMsPerFrame)} | ${ratio(r.overFloor)} |`,
    `| images, defaults (${defaultsLabel()}) | ${ms(r.floorMsPerFrame)} | ${ms(r.defaultsMsPerFrame)} | ${ratio(r.defaultsMsPerFrame / r.floorMsPerFrame)} |`,
    `| video, \`--policy never --faces off --gate off\` | ${ms(r.videoFloorMsPerFrame)} | ${ms(r.videoAgentMsPerFrame)} | ${ratio(r.videoOverFloor)} |`,
    '',
    `Peak RSS of the agent: ${Math.round(r.rssMb)} MiB on images; on video, with its ffmpeg children, ${Math.round(r.rssOneCameraMb)} MiB with 1 camera and ${Math.round(r.rssCamerasMb)} MiB with ${s.cameras}.`,
    '',
    `Goal: images \`--policy never --faces off\` at most ${EDGE_GOAL}× the floor: ${met ? 'met' : `missed by ${ratio(r.overFloor / EDGE_GOAL)}`} (${ratio(r.overFloor)}).`,
    '',
  ].join('\n');
}
