import { describe, expect, it } from 'vitest';
import { createSceneMemory } from '../../src/agent/scene-memory.ts';

describe('scene memory: one cloud answer per scene', () => {
  it('reuses the answer through a flicker of the local label, and lets go after minFrames of another', () => {
    const scene = createSceneMemory<string>({ minFrames: 3 });
    expect(scene.lookup(7)).toBeNull();
    scene.remember(7, 'cab');
    expect(scene.lookup(7)).toBe('cab');
    // Two frames of another label: a flicker, the scene holds.
    expect(scene.lookup(9)).toBe('cab');
    expect(scene.lookup(9)).toBe('cab');
    expect(scene.lookup(7)).toBe('cab');
    // The challenger starts over after the scene's label came back; three in a row change the scene.
    expect(scene.lookup(9)).toBe('cab');
    expect(scene.lookup(9)).toBe('cab');
    expect(scene.lookup(9)).toBeNull();
    expect(scene.lookup(7)).toBeNull();
    scene.remember(9, 'van');
    expect(scene.lookup(9)).toBe('van');
  });

  it('alternating challengers never add up', () => {
    const scene = createSceneMemory<string>({ minFrames: 2 });
    scene.remember(1, 'a');
    for (const index of [2, 3, 2, 3, 2]) expect(scene.lookup(index)).toBe('a');
    expect(scene.lookup(2)).toBeNull();
  });
});
