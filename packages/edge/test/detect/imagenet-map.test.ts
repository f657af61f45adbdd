import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDir } from '../../../../test/support/env.ts';
// Imported from the module: src/index.ts (another change) re-exports only part of this API so far.
import {
  COCO_CLASSES,
  COCO_LOOKALIKES,
  COCO_TO_IMAGENET,
  KITTI_ALIASES,
  PERSON_CUES,
} from '../../src/detect/imagenet-map.ts';

const setOf = (coco: string) => COCO_TO_IMAGENET[coco] ?? [];

/** The car/truck overlap is the only deliberate sharing (see the module comment). */
const SHARED_CAR_TRUCK = [407, 475, 479, 581, 656, 734];

/**
 * Spot checks: [COCO class, ILSVRC index, imagenet-simple-labels name]. The names are here so the
 * membership tests run without the labels file. The file test below checks the names against the file.
 */
const SPOTS: readonly [string, number, string][] = [
  ['car', 468, 'taxicab'],
  ['car', 734, 'police van'],
  ['car', 817, 'sports car'],
  ['car', 751, 'race car'],
  ['car', 479, 'car wheel'],
  ['truck', 867, 'semi-trailer truck'],
  ['truck', 734, 'police van'],
  ['bus', 779, 'school bus'],
  ['train', 829, 'tram'],
  ['bicycle', 671, 'mountain bike'],
  ['cyclist', 444, 'tandem bicycle'],
  ['airplane', 404, 'airliner'],
  ['traffic light', 920, 'traffic light'],
  ['stop sign', 919, 'traffic sign'],
  ['bird', 21, 'kite'],
  ['dog', 151, 'Chihuahua'],
  ['dog', 268, 'Mexican hairless dog'],
  ['cat', 281, 'tabby cat'],
  ['cat', 285, 'Egyptian Mau'],
  ['horse', 339, 'common sorrel'],
  ['elephant', 101, 'tusker'],
  ['bear', 297, 'sloth bear'],
  ['zebra', 340, 'zebra'],
  ['umbrella', 879, 'umbrella'],
  ['tie', 906, 'Windsor tie'],
  ['cup', 968, 'cup'],
  ['banana', 954, 'banana'],
  ['orange', 950, 'orange'],
  ['dining table', 532, 'dining table'],
  ['cell phone', 487, 'mobile phone'],
  ['vase', 883, 'vase'],
];

/** Indices that must stay out of a class: a near miss in WordNet or in the label text. */
const EXCLUDED: readonly [string, number, string][] = [
  ['kite', 21, 'kite'], // the bird
  ['cat', 286, 'cougar'],
  ['cat', 287, 'lynx'],
  ['dog', 269, 'grey wolf'],
  ['sandwich', 934, 'hot dog'],
  ['sports ball', 747, 'punching bag'],
  ['oven', 544, 'Dutch oven'],
  ['car', 612, 'pulled rickshaw'],
];

describe('COCO_TO_IMAGENET', () => {
  it('has every COCO-80 name and the KITTI aliases, nothing else', () => {
    expect(COCO_CLASSES).toHaveLength(80);
    expect(new Set(COCO_CLASSES).size).toBe(80);
    expect(COCO_CLASSES[0]).toBe('person');
    expect(COCO_CLASSES[79]).toBe('toothbrush');
    expect(Object.keys(COCO_TO_IMAGENET).sort()).toEqual([...COCO_CLASSES, 'pedestrian', 'cyclist'].sort());
  });

  it('holds sorted, distinct ILSVRC indices in 0..999', () => {
    for (const [coco, set] of Object.entries(COCO_TO_IMAGENET)) {
      for (const i of set) expect(Number.isInteger(i) && i >= 0 && i <= 999, `${coco}: ${i}`).toBe(true);
      expect([...set], coco).toEqual([...new Set(set)].sort((a, b) => a - b));
    }
  });

  it('gives an index to two COCO classes only for the deliberate car/truck overlap', () => {
    const owners = new Map<number, string[]>();
    for (const coco of COCO_CLASSES)
      for (const i of setOf(coco)) owners.set(i, [...(owners.get(i) ?? []), coco]);
    const shared = [...owners].filter(([, o]) => o.length > 1);
    expect(shared.map(([i]) => i).sort((a, b) => a - b)).toEqual(SHARED_CAR_TRUCK);
    for (const [, o] of shared) expect(o).toEqual(['car', 'truck']);
  });

  it('maps the KITTI aliases to the evidence of their COCO class', () => {
    expect(KITTI_ALIASES).toEqual({ pedestrian: 'person', cyclist: 'bicycle' });
    expect(COCO_TO_IMAGENET.pedestrian).toEqual([]);
    expect(COCO_TO_IMAGENET.cyclist).toEqual(COCO_TO_IMAGENET.bicycle);
  });

  it('covers whole families where ImageNet has them', () => {
    expect(setOf('dog')).toHaveLength(118);
    expect(setOf('dog')[0]).toBe(151);
    expect(setOf('dog').at(-1)).toBe(268);
    expect(setOf('cat')).toEqual([281, 282, 283, 284, 285]);
    expect(setOf('bird')).toHaveLength(59);
    expect(setOf('bear')).toEqual([294, 295, 296, 297]);
  });

  it('leaves classes ImageNet cannot see unverifiable', () => {
    for (const coco of ['person', 'giraffe', 'kite', 'suitcase', 'frisbee', 'fork', 'carrot', 'scissors']) {
      expect(setOf(coco), coco).toEqual([]);
    }
    expect(setOf('traffic light')).toEqual([920]);
  });

  it.each(SPOTS)('%s contains %i (%s)', (coco, index) => {
    expect(setOf(coco)).toContain(index);
  });

  it.each(EXCLUDED)('%s leaves out %i (%s)', (coco, index) => {
    expect(setOf(coco)).not.toContain(index);
  });

  const labelsFile = path.join(modelsDir, 'imagenet-simple-labels.json');
  it.skipIf(!existsSync(labelsFile))('spot-check names agree with imagenet-simple-labels.json', () => {
    const labels: string[] = JSON.parse(readFileSync(labelsFile, 'utf8'));
    expect(labels).toHaveLength(1000);
    for (const [, index, name] of [...SPOTS, ...EXCLUDED]) expect(labels[index], `index ${index}`).toBe(name);
  });
});

describe('COCO_LOOKALIKES and PERSON_CUES', () => {
  const mapped = new Set(Object.values(COCO_TO_IMAGENET).flat());

  it('name only detector classes and hold valid indices', () => {
    for (const [coco, set] of Object.entries(COCO_LOOKALIKES)) {
      expect(COCO_TO_IMAGENET[coco], coco).toBeDefined();
      for (const i of set) expect(i >= 0 && i <= 999, `${coco}: ${i}`).toBe(true);
    }
    for (const i of PERSON_CUES) expect(Number.isInteger(i) && i >= 0 && i <= 999).toBe(true);
  });

  it('lookalikes are indices no class claims, so they can only ever stop a rejection', () => {
    for (const [coco, set] of Object.entries(COCO_LOOKALIKES)) {
      expect(
        set.filter((i) => mapped.has(i)),
        coco,
      ).toEqual([]);
    }
  });

  it('person cues overlap the class table only in the ties', () => {
    expect([...PERSON_CUES].filter((i) => mapped.has(i)).sort((a, b) => a - b)).toEqual([451, 457, 906]);
    for (const i of [981, 982, 983, 834, 608, 461]) expect(PERSON_CUES.has(i), String(i)).toBe(true); // persons, suit, jeans, breastplate
  });
});
