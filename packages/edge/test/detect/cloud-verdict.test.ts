import { describe, expect, it } from 'vitest';
// Imported from the module: src/index.ts (another change) re-exports only part of this API so far.
import {
  type CloudClass,
  cloudMass,
  cloudVerdict,
  DEFAULT_VERDICT_OPTIONS,
} from '../../src/detect/cloud-verdict.ts';

const top = (...entries: [number, string, number][]): CloudClass[] =>
  entries.map(([index, label, p]) => ({ index, label, p }));

/** Top-5 that MobileNetV2-int8 gave for crops of the detection sample (15 % pad, 224²). */
const MEASURED = {
  /** coco_000000000042, GT dog. */
  poodle: top(
    [265, 'Toy Poodle', 0.32],
    [266, 'Miniature Poodle', 0.32],
    [191, 'Airedale Terrier', 0.17],
    [267, 'Standard Poodle', 0.12],
    [181, 'Bedlington Terrier', 0.02],
  ),
  /** kitti_000002, GT car: 30 px wide, the cloud has no idea. */
  tinyCar: top(
    [810, 'space bar', 0.1],
    [569, 'garbage truck', 0.06],
    [803, 'snowplow', 0.05],
    [482, 'cassette player', 0.04],
    [878, 'typewriter keyboard', 0.04],
  ),
  /** coco_000000000049, GT horse with an armoured rider. */
  armouredRider: top(
    [461, 'breastplate', 0.85],
    [787, 'shield', 0.07],
    [524, 'cuirass', 0.03],
    [560, 'football helmet', 0.01],
    [490, 'chain mail', 0.01],
  ),
  /** faces_02, a YOLOX "tie" (score 0.15) that is a stethoscope. */
  stethoscope: top([823, 'stethoscope', 0.85], [617, 'lab coat', 0.05], [834, 'suit', 0.02]),
  /** kittitest_000357, a YOLOX "car" (score 0.25) on a half-hidden car. */
  rickshaw: top([612, 'pulled rickshaw', 0.74], [665, 'moped', 0.03], [439, 'military cap', 0.02]),
};

describe('cloudMass', () => {
  it('sums the p of the entries in the class set, each index once', () => {
    expect(cloudMass('dog', MEASURED.poodle)).toBeCloseTo(0.95, 10);
    const dup = top([468, 'taxicab', 0.4], [468, 'taxicab', 0.4], [562, 'fountain', 0.1]);
    expect(cloudMass('car', dup)).toBeCloseTo(0.4, 10);
    expect(cloudMass('person', dup)).toBe(0);
    expect(cloudMass('no such class', dup)).toBe(0);
  });
});

describe('cloudVerdict', () => {
  it('uses the measured defaults', () => {
    expect(DEFAULT_VERDICT_OPTIONS).toMatchObject({ confirmMass: 0.3, relabelMass: 0.7, rejectP: 0.7 });
    expect(DEFAULT_VERDICT_OPTIONS.relabelTo).toHaveLength(80);
    expect(Object.isFrozen(DEFAULT_VERDICT_OPTIONS)).toBe(true);
  });

  it('confirms a car and refines it to the most probable car label', () => {
    const v = cloudVerdict(
      'car',
      top(
        [468, 'taxicab', 0.45],
        [734, 'police van', 0.2],
        [717, 'pickup truck', 0.1],
        [562, 'fountain', 0.05],
      ),
    );
    // The police van counts for car and truck alike; truck's 0.3 does not beat car's 0.65.
    expect(v).toEqual({
      kind: 'confirmed',
      label: 'car',
      refined: 'taxicab',
      mass: expect.closeTo(0.65, 10),
    });
  });

  it('confirms on mass spread over siblings, none of which would pass alone', () => {
    const v = cloudVerdict(
      'dog',
      top(
        [160, 'Afghan Hound', 0.15],
        [155, 'Shih Tzu', 0.12],
        [157, 'Papillon', 0.1],
        [562, 'fountain', 0.09],
      ),
    );
    expect(v).toEqual({
      kind: 'confirmed',
      label: 'dog',
      refined: 'Afghan Hound',
      mass: expect.closeTo(0.37, 10),
    });
    expect(cloudVerdict('dog', MEASURED.poodle)).toMatchObject({ kind: 'confirmed', refined: 'Toy Poodle' });
  });

  it('confirms at exactly confirmMass, not below', () => {
    const t = top([468, 'taxicab', 0.25], [562, 'fountain', 0.2]);
    expect(cloudVerdict('car', t, { confirmMass: 0.25 }).kind).toBe('confirmed');
    expect(cloudVerdict('car', t, { confirmMass: 0.26 }).kind).toBe('unverifiable');
  });

  it('relabels a car the cloud clearly sees as a truck', () => {
    const v = cloudVerdict(
      'car',
      top([867, 'semi-trailer truck', 0.5], [864, 'tow truck', 0.25], [468, 'taxicab', 0.1]),
    );
    expect(v).toEqual({
      kind: 'relabelled',
      label: 'truck',
      refined: 'semi-trailer truck',
      mass: expect.closeTo(0.75, 10),
      was: 'car',
    });
  });

  it('relabels even when the local mass would have confirmed, if the rival clearly has more', () => {
    const t = top(
      [817, 'sports car', 0.4],
      [511, 'convertible', 0.25],
      [717, 'pickup truck', 0.2],
      [864, 'tow truck', 0.15],
    );
    expect(cloudMass('truck', t)).toBeGreaterThanOrEqual(DEFAULT_VERDICT_OPTIONS.confirmMass);
    const v = cloudVerdict('truck', t, { relabelMass: 0.6 });
    expect(v).toMatchObject({ kind: 'relabelled', label: 'car', refined: 'sports car', was: 'truck' });
  });

  it('does not relabel below relabelMass, and then keeps the local answer', () => {
    const t = top([867, 'semi-trailer truck', 0.5], [468, 'taxicab', 0.1]);
    expect(cloudVerdict('car', t)).toEqual({
      kind: 'unverifiable',
      reason: 'cloud-unsure',
      cloudLabel: 'semi-trailer truck',
      cloudP: 0.5,
    });
    expect(cloudVerdict('car', t, { relabelMass: 0.5 })).toMatchObject({
      kind: 'relabelled',
      label: 'truck',
    });
  });

  it('never relabels between car and truck on a shared vehicle', () => {
    const t = top([656, 'minivan', 0.9]);
    expect(cloudVerdict('car', t)).toMatchObject({ kind: 'confirmed', label: 'car', refined: 'minivan' });
    expect(cloudVerdict('truck', t)).toMatchObject({ kind: 'confirmed', label: 'truck', refined: 'minivan' });
  });

  it('relabels a KITTI cyclist into a COCO class, not into its own alias', () => {
    expect(cloudVerdict('cyclist', top([671, 'mountain bike', 0.8]))).toMatchObject({
      kind: 'confirmed',
      label: 'cyclist',
      refined: 'mountain bike',
    });
    expect(cloudVerdict('cyclist', top([665, 'moped', 0.8]))).toMatchObject({
      kind: 'relabelled',
      label: 'motorcycle',
      was: 'cyclist',
    });
  });

  it('relabels only into the detector vocabulary it is given', () => {
    const kitti = { relabelTo: ['car', 'pedestrian', 'cyclist'] };
    const bike = top([671, 'mountain bike', 0.6], [444, 'tandem bicycle', 0.2]);
    expect(cloudVerdict('car', bike)).toMatchObject({ kind: 'relabelled', label: 'bicycle' });
    expect(cloudVerdict('car', bike, kitti)).toMatchObject({
      kind: 'relabelled',
      label: 'cyclist',
      was: 'car',
    });
    // SqueezeDet has no truck: a car the cloud calls a truck stays a car (and is not rejected).
    const lorry = top([867, 'semi-trailer truck', 0.9]);
    expect(cloudVerdict('car', lorry, kitti)).toMatchObject({ kind: 'unverifiable', reason: 'cloud-unsure' });
    // A KITTI cyclist is never "relabelled" to its own COCO class.
    expect(cloudVerdict('cyclist', bike)).toMatchObject({ kind: 'confirmed', label: 'cyclist' });
  });

  it('rejects a detection the cloud confidently sees as something no class covers', () => {
    expect(cloudVerdict('tie', MEASURED.stethoscope)).toEqual({
      kind: 'rejected',
      cloudLabel: 'stethoscope',
      cloudP: 0.85,
      mass: 0,
    });
    expect(cloudVerdict('tie', MEASURED.stethoscope, { rejectP: 0.9 })).toMatchObject({
      kind: 'unverifiable',
      reason: 'cloud-unsure',
    });
  });

  it('does not reject on a person cue or a lookalike', () => {
    expect(cloudVerdict('horse', MEASURED.armouredRider)).toEqual({
      kind: 'unverifiable',
      reason: 'person-in-crop',
      cloudLabel: 'breastplate',
      cloudP: 0.85,
    });
    expect(cloudVerdict('car', MEASURED.rickshaw)).toMatchObject({
      kind: 'unverifiable',
      reason: 'lookalike',
    });
    expect(cloudVerdict('dog', top([269, 'grey wolf', 0.9]))).toMatchObject({
      kind: 'unverifiable',
      reason: 'lookalike',
    });
    // The same answer for a class it does not resemble is a rejection.
    expect(cloudVerdict('bench', MEASURED.rickshaw, { rejectP: 0.7 })).toMatchObject({ kind: 'rejected' });
  });

  it('leaves a person unverifiable whatever the cloud says', () => {
    for (const label of ['person', 'pedestrian']) {
      expect(cloudVerdict(label, top([834, 'suit', 0.6], [608, 'jeans', 0.3]))).toEqual({
        kind: 'unverifiable',
        reason: 'no-counterpart',
        cloudLabel: 'suit',
        cloudP: 0.6,
      });
      expect(cloudVerdict(label, MEASURED.stethoscope)).toMatchObject({ reason: 'no-counterpart' });
    }
  });

  it('leaves classes without a counterpart, and unknown labels, unverifiable', () => {
    expect(cloudVerdict('kite', top([21, 'kite', 0.95]))).toMatchObject({ reason: 'no-counterpart' });
    expect(cloudVerdict('bird', top([21, 'kite', 0.95]))).toMatchObject({
      kind: 'confirmed',
      refined: 'kite',
    });
    expect(cloudVerdict('dontcare', top([468, 'taxicab', 0.95]))).toMatchObject({ reason: 'no-counterpart' });
  });

  it('keeps the local answer when the cloud is unsure', () => {
    expect(cloudVerdict('car', MEASURED.tinyCar)).toEqual({
      kind: 'unverifiable',
      reason: 'cloud-unsure',
      cloudLabel: 'space bar',
      cloudP: 0.1,
    });
    expect(cloudVerdict('car', [])).toEqual({
      kind: 'unverifiable',
      reason: 'cloud-unsure',
      cloudLabel: '',
      cloudP: 0,
    });
  });

  it('takes the top-1 by probability, not by position', () => {
    const unsorted = top([562, 'fountain', 0.05], [823, 'stethoscope', 0.85]);
    expect(cloudVerdict('tie', unsorted)).toMatchObject({ kind: 'rejected', cloudLabel: 'stethoscope' });
    const refine = top([817, 'sports car', 0.2], [468, 'taxicab', 0.3]);
    expect(cloudVerdict('car', refine)).toMatchObject({ kind: 'confirmed', refined: 'taxicab' });
  });
});
