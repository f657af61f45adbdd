import { describeMachine, type MachineInfo } from '../machine.ts';
import { SCENES } from './frames.ts';
import type { ArmResult } from './run.ts';

export interface FleetBenchResults {
  devices: number;
  budget: number;
  /** The controller's arm: frames/s the gateway took in the measured window. */
  achieved: number;
  /** Share of 5 s windows over 110 % of the budget (controller arm). */
  overBudget: number;
  cascadeTop1: number;
  uniformTop1: number;
  /** Frames answered BUSY, both arms. */
  busy: number;
  /** The issue's two targets, as measured. */
  withinTenPercent: boolean;
  cascadeBeatsUniform: boolean;
  fps: number;
  seconds: number;
  warmupS: number;
  images: number;
  severity: string;
  machine: MachineInfo;
  command: string;
  arms: ArmResult[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function fleetTable(r: FleetBenchResults): string {
  const lines = [
    `${r.devices} simulated devices at ${r.fps} frames/s each (${(r.devices * r.fps).toFixed(0)} frames/s captured) against one real gateway, fleet budget ${r.budget} cloud frames/s, ${r.seconds} s per arm, the first ${r.warmupS} s left out. Half the devices see clean images, the rest blur, noise or low light (${r.severity} night, ${r.images} images of the sample set in each scene). Cloud answers come from the gateway's model; edge answers are the edge model's cached predictions on the same payloads.`,
    '',
    '| arm | achieved frames/s | achieved / budget | 5 s windows over 110 % | top-1 | offloaded | BUSY |',
    '|---|---|---|---|---|---|---|',
    ...r.arms.map(
      (a) =>
        `| ${a.arm === 'cascade' ? 'fleet controller (one bar)' : 'uniform per-device caps (`rate`)'} | ${a.achieved.toFixed(2)} | ${(a.achieved / r.budget).toFixed(3)} | ${pct(a.overBudget)} | ${pct(a.top1)} | ${a.offloaded} of ${a.frames} | ${a.busy} |`,
    ),
    '',
    "Where the budget went, by scene: the share of the scene's frames offloaded, the top-1 of its final answers, and what one offloaded frame of the scene was worth (top-1 of the final answer less the edge's, over its offloaded frames):",
    '',
    `| scene | devices | ${r.arms.map((a) => `${a.arm} offloaded | ${a.arm} top-1 | ${a.arm} gain / offload`).join(' | ')} |`,
    `|---|---|${r.arms.map(() => '---|---|---').join('|')}|`,
    ...SCENES.map((s) => {
      const first = r.arms[0]!.byScene[s];
      return `| ${s} | ${first.devices} | ${r.arms
        .map((a) => {
          const f = a.byScene[s];
          return `${pct(f.offloaded / Math.max(1, f.frames))} | ${pct(f.top1)} | ${f.gainPerOffload.toFixed(3)}`;
        })
        .join(' | ')} |`;
    }),
    '',
    `Controller within ±10 % of the budget: **${r.withinTenPercent ? 'yes' : 'no'}** (${(r.achieved / r.budget).toFixed(3)}); fleet controller beats uniform caps on top-1: **${r.cascadeBeatsUniform ? 'yes' : 'no'}** (${pct(r.cascadeTop1)} against ${pct(r.uniformTop1)}).`,
    '',
    `Measured on ${describeMachine(r.machine)}, ${r.machine.date.slice(0, 10)}, by \`${r.command}\`.`,
  ];
  return `${lines.join('\n')}\n`;
}
