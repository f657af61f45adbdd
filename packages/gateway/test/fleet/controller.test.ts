import { createFleetController, type FleetController } from '@squeezegate/gateway';
import { describe, expect, it } from 'vitest';

/** A seeded generator (mulberry32), so every run sees the same fleet. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A device's confidence: p^(1/hardness) of a uniform draw, so a harder scene has more unsure frames. */
interface SimDevice {
  hardness: number;
  fps: number;
  offloaded: number;
}

interface SimOptions {
  devices: SimDevice[];
  controller: FleetController;
  /** The cloud tier: frames it serves per second, and how many may wait before BUSY. */
  capacityFps: number;
  maxQueue: number;
  steps: number;
  dt?: number;
  bytesPerFrame?: number;
}

/** Runs a simulated fleet against the controller, one step per interval; returns per-step rates. */
function simulate(o: SimOptions) {
  const random = rng(42);
  const dt = o.dt ?? 1;
  const size = o.bytesPerFrame ?? 10_000;
  let t = 0;
  const totals = { framesIn: 0, bytesIn: 0, busy: 0, served: 0 };
  let queued = 0;
  const rates: number[] = [];
  const thresholds: number[] = [];
  const saturated: boolean[] = [];
  const busyAt: number[] = [];
  o.controller.step({ atMs: 0, ...totals, queued, maxQueue: o.maxQueue });
  for (let step = 0; step < o.steps; step++) {
    const bar = o.controller.threshold;
    let sent = 0;
    for (const d of o.devices) {
      const frames = Math.round(d.fps * dt);
      for (let i = 0; i < frames; i++) {
        const confidence = random() ** (1 / d.hardness);
        if (confidence < bar) {
          d.offloaded++;
          sent++;
        }
      }
    }
    // The tier serves at its capacity; what does not fit in its queue is answered BUSY.
    const serve = Math.min(queued + sent, o.capacityFps * dt);
    queued = queued + sent - serve;
    const shed = Math.max(0, queued - o.maxQueue);
    queued -= shed;
    totals.framesIn += sent;
    totals.bytesIn += sent * size;
    totals.served += serve;
    totals.busy += shed;
    busyAt.push(totals.busy);
    t += dt * 1000;
    const r = o.controller.step({ atMs: t, ...totals, queued, maxQueue: o.maxQueue });
    rates.push(sent / dt);
    thresholds.push(r.threshold);
    saturated.push(r.saturated);
  }
  return { rates, thresholds, saturated, busyAt, busy: totals.busy };
}

const fleet = (n: number, fps: number, hardness: (i: number) => number): SimDevice[] =>
  Array.from({ length: n }, (_, i) => ({ hardness: hardness(i), fps, offloaded: 0 }));
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('fleet controller', () => {
  it('holds a 200-device fleet within ±10 % of its cloud budget', () => {
    const devices = fleet(200, 0.5, (i) => (i % 3 === 0 ? 0.6 : 3));
    const controller = createFleetController({ budget: { cloudFps: 20 } });
    const { rates, thresholds } = simulate({
      devices,
      controller,
      capacityFps: 1000,
      maxQueue: 64,
      steps: 120,
    });
    const settled = mean(rates.slice(20));
    expect(settled / 20).toBeGreaterThan(0.9);
    expect(settled / 20).toBeLessThan(1.1);
    // The bar moved from its start (0.5) to where the fleet meets the budget.
    expect(Math.abs(thresholds.at(-1)! - 0.5)).toBeGreaterThan(0.05);
  });

  it('holds an uplink budget in bytes per second', () => {
    const devices = fleet(100, 2, () => 1);
    const controller = createFleetController({ budget: { uplinkBps: 300_000 } });
    const { rates } = simulate({
      devices,
      controller,
      capacityFps: 1000,
      maxQueue: 64,
      steps: 120,
      bytesPerFrame: 10_000,
    });
    const bps = mean(rates.slice(20)) * 10_000;
    expect(bps / 300_000).toBeGreaterThan(0.9);
    expect(bps / 300_000).toBeLessThan(1.1);
  });

  it('gives the devices with hard scenes more of the budget: one bar for all', () => {
    // Hardness 0.5 (night, blur): most frames unsure; 4: a clear day.
    const devices = fleet(60, 1, (i) => [0.5, 1, 4][i % 3]!);
    const controller = createFleetController({ budget: { cloudFps: 15 } });
    simulate({ devices, controller, capacityFps: 1000, maxQueue: 64, steps: 100 });
    const by = (h: number) => mean(devices.filter((d) => d.hardness === h).map((d) => d.offloaded));
    expect(by(0.5)).toBeGreaterThan(by(1));
    expect(by(1)).toBeGreaterThan(by(4));
    const hardest = devices.reduce((a, b) => (b.offloaded > a.offloaded ? b : a));
    expect(hardest.hardness).toBe(0.5);
  });

  it('lowers the bar when the cloud tier saturates, before any frame is answered BUSY', () => {
    // The budget is above what the tier can serve: the queue, not the budget, must stop the fleet.
    const devices = fleet(200, 0.5, () => 1);
    const controller = createFleetController({ budget: { cloudFps: 80 }, initialThreshold: 0.2 });
    const run = simulate({ devices, controller, capacityFps: 30, maxQueue: 64, steps: 120 });
    const first = run.saturated.indexOf(true);
    expect(first).toBeGreaterThan(0);
    expect(run.busyAt[first]).toBe(0);
    expect(run.thresholds[first]!).toBeLessThan(run.thresholds[first - 1]!);
    // Held near what the tier serves, and never shed.
    expect(run.busy).toBe(0);
    expect(mean(run.rates.slice(40))).toBeLessThanOrEqual(30);
  });

  it('refuses a budget with neither limit', () => {
    expect(() => createFleetController({ budget: {} })).toThrow(/cloudFps or uplinkBps/);
  });

  it('opens the bar when nothing is sent, and never past 1', () => {
    const controller = createFleetController({ budget: { cloudFps: 10 }, initialThreshold: 0.01 });
    const zero = { framesIn: 0, bytesIn: 0, queued: 0, maxQueue: 64, busy: 0, served: 0 };
    controller.step({ atMs: 0, ...zero });
    for (let i = 1; i <= 60; i++) controller.step({ atMs: i * 1000, ...zero });
    expect(controller.threshold).toBe(1);
  });
});
