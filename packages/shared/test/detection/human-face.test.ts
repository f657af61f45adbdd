import { animalMass, type FaceEvidence, HUMAN_FACE_RULES, judgeFace } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

/** Questions that answer fixed values and count how often they were asked. */
function questions(look: number, mass: number) {
  const asked = { look: 0, mass: 0 };
  return {
    asked,
    ask: {
      closerLook: async () => {
        asked.look++;
        return look;
      },
      animalMass: async () => {
        asked.mass++;
        return mass;
      },
    },
  };
}

const face = (e: Partial<FaceEvidence>): FaceEvidence => ({ width: 40, yunet: 0, other: 0, ...e });

describe('judgeFace', () => {
  it.each([
    // [case, evidence, closer look, animal mass, redact, reason]
    ['a small face, whatever it is', face({ width: 20, other: 0.6 }), 0, 1, true, 'small'],
    ['YuNet sure: a person', face({ yunet: 0.95 }), 0, 1, true, 'sure'],
    ['YuNet likely, not an animal', face({ yunet: 0.8 }), 0, 0.3, true, 'likely'],
    ['YuNet likely, the classifier sees a dog', face({ yunet: 0.8 }), 0, 0.99, false, 'animal'],
    ['a closer look makes it likely', face({ yunet: 0.5 }), 0.75, 0.1, true, 'likely'],
    ['a closer look makes it sure: no animal check', face({ yunet: 0.5 }), 0.92, 1, true, 'likely'],
    ['only UltraFace, sure, not an animal', face({ other: 0.97 }), 0, 0.2, true, 'other-sure'],
    ['only UltraFace, sure, an animal', face({ other: 0.99 }), 0.1, 0.99, false, 'animal'],
    ['only UltraFace, unsure', face({ other: 0.7 }), 0.2, 0, false, 'unsure'],
  ] as const)('%s', async (_, evidence, look, mass, redact, reason) => {
    const { ask } = questions(look, mass);
    expect(await judgeFace(evidence, ask)).toEqual({ redact, reason });
  });

  it('asks nothing about small or sure faces, and the classifier only when it must', async () => {
    const small = questions(0, 1);
    await judgeFace(face({ width: 10 }), small.ask);
    expect(small.asked).toEqual({ look: 0, mass: 0 });
    const sure = questions(0, 1);
    await judgeFace(face({ yunet: 0.93 }), sure.ask);
    expect(sure.asked).toEqual({ look: 0, mass: 0 });
    const likely = questions(0.92, 1);
    await judgeFace(face({ yunet: 0.4 }), likely.ask);
    expect(likely.asked).toEqual({ look: 1, mass: 0 });
    const unsure = questions(0.1, 1);
    await judgeFace(face({ other: 0.6 }), unsure.ask);
    expect(unsure.asked).toEqual({ look: 1, mass: 0 });
  });

  it('redacts every candidate when there is nothing to ask', async () => {
    expect(await judgeFace(face({ other: 0.55 }), {})).toEqual({ redact: true, reason: 'no-check' });
  });

  it('without YuNet, spares only what the classifier calls an animal', async () => {
    const animal = async () => 0.99;
    const thing = async () => 0.1;
    expect(await judgeFace(face({ other: 0.55 }), { animalMass: thing })).toEqual({
      redact: true,
      reason: 'no-check',
    });
    expect(await judgeFace(face({ other: 0.99 }), { animalMass: animal })).toEqual({
      redact: false,
      reason: 'animal',
    });
  });

  it('takes other rules', async () => {
    const { ask } = questions(0, 0.5);
    const rules = { ...HUMAN_FACE_RULES, minWidth: 64 };
    expect(await judgeFace(face({ width: 50, other: 0.6 }), ask, rules)).toEqual({
      redact: true,
      reason: 'small',
    });
  });
});

describe('animalMass', () => {
  it('sums ImageNet classes 0–397 (tench … pufferfish)', () => {
    const probs = new Float32Array(1000);
    probs[0] = 0.1;
    probs[397] = 0.2;
    probs[398] = 0.7; // abacus
    expect(animalMass(probs)).toBeCloseTo(0.3, 6);
  });
});
