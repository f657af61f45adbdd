import { candidateFloor, isVerifiable, planObjects } from '@squeezegate/edge';
import { type Detection, DetectSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const det = (label: string, score: number): Detection => ({
  box: [0, 0, 10, 10],
  classIndex: 0,
  label,
  score,
});
const config = DetectSchema.parse({});

describe('planObjects', () => {
  it('keeps a frame whose detections are all confident', () => {
    const plan = planObjects([det('car', 0.9), det('dog', 0.6)], config, 0.3);
    expect(plan.verify).toEqual([]);
    expect(plan.sendFrame).toBe(false);
    expect(plan.confident).toHaveLength(2);
  });

  it('sends the uncertain ones, best first, at most maxCrops', () => {
    const candidates = [
      det('car', 0.45),
      det('car', 0.25),
      det('truck', 0.35),
      det('bus', 0.3),
      det('car', 0.9),
    ];
    const plan = planObjects(candidates, { ...config, maxCrops: 2 }, 0.3);
    expect(plan.verify.map((d) => d.score)).toEqual([0.45, 0.35]);
    expect(plan.unverified.map((d) => d.score)).toEqual([0.3, 0.25]);
    expect(plan.reason).toMatch(/2 detection/);
  });

  it('never sends a class the cloud cannot verify', () => {
    expect(isVerifiable('car')).toBe(true);
    expect(isVerifiable('person')).toBe(false);
    const plan = planObjects([det('person', 0.4)], config, 0.3);
    expect(plan.verify).toEqual([]);
    expect(plan.unverified).toHaveLength(1);
    expect(plan.sendFrame).toBe(false);
  });

  it('sends the frame when nothing was found but something nearly was', () => {
    expect(planObjects([det('cat', 0.15)], config, 0.3).sendFrame).toBe(true);
    expect(planObjects([det('cat', 0.05)], config, 0.3).sendFrame).toBe(false);
    expect(planObjects([], config, 0.3)).toMatchObject({ sendFrame: false, reason: 'nothing found' });
  });

  it('asks the detector for every band', () => {
    expect(candidateFloor(config, 0.3)).toBe(0.1);
    expect(candidateFloor({ ...config, emptyFrame: 0.5, uncertain: 0.4 }, 0.3)).toBe(0.3);
  });
});
