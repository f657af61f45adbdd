import { EdgeConfigSchema, fuseAnswer } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const cloud = [
  { index: 3, label: 'bonnet', p: 0.4 },
  { index: 7, label: 'cowboy hat', p: 0.35 },
  { index: 1, label: 'sombrero', p: 0.1 },
];
const edge = (pairs: Record<number, number>) => {
  const probs = new Float32Array(10);
  for (const [i, p] of Object.entries(pairs)) probs[Number(i)] = p;
  return probs;
};

describe('fuseAnswer', () => {
  it('weight 0 is the cloud’s top-1, whatever the edge says', () => {
    expect(fuseAnswer(cloud, edge({ 7: 0.9 }), 0)).toBe(cloud[0]);
  });

  it('the edge settles a close call among the cloud’s classes', () => {
    // log 0.35 + 0.25 log 0.9 > log 0.4 + 0.25 log 0.05
    expect(fuseAnswer(cloud, edge({ 3: 0.05, 7: 0.9 }), 0.25).label).toBe('cowboy hat');
  });

  it('a sure cloud keeps its answer against a light edge weight', () => {
    const sure = [
      { index: 3, label: 'bonnet', p: 0.9 },
      { index: 7, label: 'cowboy hat', p: 0.05 },
    ];
    expect(fuseAnswer(sure, edge({ 3: 0.01, 7: 0.9 }), 0.25).label).toBe('bonnet');
  });

  it('never answers outside the cloud’s classes, and a class the edge gave 0 is only unlikely', () => {
    const out = fuseAnswer(cloud, edge({ 5: 1 }), 1);
    expect(cloud).toContain(out);
    expect(out).toBe(cloud[0]);
  });

  it('needs a cloud answer', () => {
    expect(() => fuseAnswer([], edge({}), 0.25)).toThrow(RangeError);
  });

  it('the agent fuses by default, with weight 0.25', () => {
    const config = EdgeConfigSchema.parse({
      deviceId: 'd',
      token: 't',
      gatewayUrl: 'ws://x/v1/edge',
      modelsDir: 'm',
      source: { dir: 'x' },
    });
    expect(config.fusion).toEqual({ edgeWeight: 0.25 });
    expect(() => EdgeConfigSchema.parse({ ...config, fusion: { edgeWeight: -1 } })).toThrow();
  });
});
