// One arm of bench:fleet: a real gateway in this process, `devices` real gateway links (the
// agent's WebSocket transport) from this process, each device replaying its frames at `fps`
// and deciding with the agent's own policy code: under the fleet bar (`cascade`) or with the
// `rate` policy at an equal share of the budget (`uniform`).
import { randomBytes } from 'node:crypto';
import {
  createFleetBar,
  createGatewayLink,
  createPolicy,
  type GatewayLink,
  type Policy,
  seededRandom,
  underFleetBar,
} from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import { confidences, GatewayConfigSchema, PolicySchema, topK } from '@squeezegate/shared';
import type { Logger } from 'pino';
import { type FleetFrame, SCENES, type Scene } from './frames.ts';

export type Arm = 'cascade' | 'uniform';

export interface ArmOptions {
  arm: Arm;
  frames: readonly FleetFrame[];
  devices: number;
  /** Frames each device captures per second. */
  fps: number;
  seconds: number;
  /** Seconds at the start left out of the figures (the controller finding its bar). */
  warmupS: number;
  budgetFps: number;
  modelsDir: string;
  logger: Logger;
  seed: number;
  /** Told once a second what the gateway took. */
  onSecond?: (second: number, fps: number) => void;
}

export interface SceneFigures {
  devices: number;
  frames: number;
  offloaded: number;
  top1: number;
  /** Over the offloaded frames: top-1 of the final answer less top-1 of the edge's own. */
  gainPerOffload: number;
}

export interface ArmResult {
  arm: Arm;
  /** Frames per second the gateway took in the measured window, and over the whole run. */
  achieved: number;
  achievedWholeRun: number;
  /** Share of 5-second windows (measured) in which the fleet sent more than 110 % of the budget. */
  overBudget: number;
  top1: number;
  /** Frames the gateway answered BUSY. */
  busy: number;
  frames: number;
  offloaded: number;
  /** Frames offloaded that got a cloud answer in time. */
  answered: number;
  perSecond: number[];
  byScene: Record<Scene, SceneFigures>;
}

/** A device's scene: half the fleet sees clean images, the rest one of the night corruptions. */
export const sceneOf = (device: number): Scene =>
  device % 2 === 0 ? 'clean' : SCENES[1 + ((device >> 1) % (SCENES.length - 1))]!;

/** Mean over frames of (final answer right) − (edge answer right). */
const gainOf = (frames: readonly { top1: number; edgeTop1: number; truth: number }[]) =>
  frames.reduce((g, p) => g + Number(p.top1 === p.truth) - Number(p.edgeTop1 === p.truth), 0) /
  Math.max(1, frames.length);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface Pending {
  device: number;
  capturedAt: number;
  outcome: Promise<{ offloaded: boolean; top1: number; edgeTop1: number }>;
  truth: number;
}

export async function runArm(options: ArmOptions): Promise<ArmResult> {
  const { arm, frames, devices: n, fps, seconds, warmupS, budgetFps, seed } = options;
  const pools = new Map<Scene, FleetFrame[]>(SCENES.map((s) => [s, frames.filter((f) => f.scene === s)]));
  const ids = Array.from({ length: n }, (_, i) => ({
    id: `fleet-${String(i).padStart(4, '0')}`,
    token: randomBytes(12).toString('hex'),
  }));
  const config = GatewayConfigSchema.parse({
    port: 0,
    modelsDir: options.modelsDir,
    devices: ids,
    logLevel: 'warn',
    ...(arm === 'cascade' ? { fleet: { budgetCloudFps: budgetFps, intervalMs: 1000 } } : {}),
  });
  const silent = options.logger.child({ arm });
  await using gateway = await createGateway({ config, logger: silent });
  const share = budgetFps / (n * fps);
  const links: GatewayLink[] = [];
  const policies: Policy[] = [];
  let answeredCount = 0;
  try {
    // Dialled a few at a time: a real fleet does not connect in one instant either.
    for (let i = 0; i < n; i += 20) {
      const batch = ids.slice(i, i + 20).map(async ({ id, token }, k) => {
        const bar = createFleetBar();
        const own = createPolicy(
          arm === 'cascade'
            ? PolicySchema.parse({ kind: 'threshold', threshold: 0.5 })
            : PolicySchema.parse({ kind: 'rate', target: share }),
        );
        policies[i + k] = arm === 'cascade' ? underFleetBar(own, bar) : own;
        links[i + k] = await createGatewayLink({
          url: gateway.edgeUrl,
          deviceId: id,
          token,
          logger: silent.child({ deviceId: id }),
          ...(arm === 'cascade' ? { onPolicy: (m) => void bar.apply(m, performance.now()) } : {}),
        });
      });
      await Promise.all(batch);
    }
    const refused = links.filter((l) => l.state !== 'open').length;
    if (refused > 0) throw new Error(`${refused} of ${n} simulated devices could not connect`);

    // The same schedule and the same frames in both arms: device i's k-th frame at offset_i + k / fps.
    const events: { at: number; device: number; frame: FleetFrame; k: number }[] = [];
    for (let d = 0; d < n; d++) {
      const random = seededRandom(seed * 1009 + d);
      const pool = pools.get(sceneOf(d))!;
      const offset = random() / fps;
      for (let k = 0; offset + k / fps < seconds; k++)
        events.push({
          at: (offset + k / fps) * 1000,
          device: d,
          frame: pool[Math.floor(random() * pool.length)]!,
          k,
        });
    }
    events.sort((a, b) => a.at - b.at);

    const pending: Pending[] = [];
    const perSecond: number[] = [];
    const busyBefore = gateway.batching().busy;
    const t0 = performance.now();
    let lastIn = gateway.counters().framesIn;
    let warmIn = lastIn;
    const sampler = setInterval(() => {
      const now = gateway.counters().framesIn;
      perSecond.push(now - lastIn);
      options.onSecond?.(perSecond.length, now - lastIn);
      lastIn = now;
      if (perSecond.length === warmupS) warmIn = now;
    }, 1000);
    let endIn = lastIn;
    try {
      for (const e of events) {
        await sleep(t0 + e.at - performance.now());
        pending.push({
          device: e.device,
          capturedAt: e.at / 1000,
          truth: e.frame.truth,
          outcome: decide(e.device, e.frame, e.k),
        });
      }
      // The fleet stops capturing: the rate is measured up to here, then the answers are awaited.
      await sleep(t0 + seconds * 1000 - performance.now());
      endIn = gateway.counters().framesIn;
    } finally {
      clearInterval(sampler);
    }
    const outcomes = await Promise.all(pending.map((p) => p.outcome));
    const busy = gateway.batching().busy - busyBefore;

    const measured = pending
      .map((p, i) => ({ ...p, ...outcomes[i]! }))
      .filter((p) => p.capturedAt >= warmupS);
    const byScene = Object.fromEntries(
      SCENES.map((s) => {
        const of = measured.filter((p) => sceneOf(p.device) === s);
        return [
          s,
          {
            devices: Array.from({ length: n }, (_, d) => d).filter((d) => sceneOf(d) === s).length,
            frames: of.length,
            offloaded: of.filter((p) => p.offloaded).length,
            top1: of.filter((p) => p.top1 === p.truth).length / Math.max(1, of.length),
            gainPerOffload: gainOf(of.filter((p) => p.offloaded)),
          },
        ];
      }),
    ) as Record<Scene, SceneFigures>;
    const windows: number[] = [];
    const after = perSecond.slice(warmupS, seconds);
    for (let i = 0; i + 5 <= after.length; i += 5)
      windows.push(after.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5);
    return {
      arm,
      achieved: (endIn - warmIn) / (seconds - warmupS),
      achievedWholeRun: endIn / seconds,
      overBudget: windows.filter((w) => w > 1.1 * budgetFps).length / Math.max(1, windows.length),
      top1: measured.filter((p) => p.top1 === p.truth).length / Math.max(1, measured.length),
      busy,
      frames: measured.length,
      offloaded: measured.filter((p) => p.offloaded).length,
      answered: answeredCount,
      perSecond,
      byScene,
    };
  } finally {
    await Promise.all(links.map((l) => l?.close()));
  }

  /** One frame's decision by the device's policy and, offloaded, its round trip to the gateway. */
  async function decide(
    d: number,
    frame: FleetFrame,
    k: number,
  ): Promise<{ offloaded: boolean; top1: number; edgeTop1: number }> {
    const probs = frame.probs;
    const best = topK(probs, 1)[0]!;
    const policy = policies[d]!;
    const decision = policy.decide({ probs, confidence: confidences(probs) }, performance.now());
    if (decision.kind === 'local') return { offloaded: false, top1: best.index, edgeTop1: best.index };
    policy.spent(frame.jpeg.length);
    const { answer } = await links[d]!.request(
      {
        type: 'frame',
        frameId: `${ids[d]!.id}-${arm}-${k}`,
        seq: k,
        view: 'crop',
        mime: 'image/jpeg',
        local: { index: best.index, label: `class ${best.index}`, p: best.p },
        reason: decision.reason.slice(0, 200),
      },
      frame.jpeg,
      { deadlineMs: 10_000 },
    );
    if (answer.kind !== 'result') return { offloaded: true, top1: best.index, edgeTop1: best.index };
    answeredCount++;
    return { offloaded: true, top1: answer.result.top[0]!.index, edgeTop1: best.index };
  }
}
