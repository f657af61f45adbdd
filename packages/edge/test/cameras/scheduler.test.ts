import type { CapturedFrame, FrameSource } from '@squeezegate/edge';
import { runCameras } from '@squeezegate/edge';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

const log = pino({ level: 'silent' });

/** A camera whose frames are ready at once (a file read as fast as it goes), `count` of them. */
function camera(id: string, count: number, delayMs = 0): FrameSource {
  const close = async () => {};
  return {
    camera: id,
    live: false,
    lastError: null,
    async *frames() {
      for (let seq = 0; seq < count; seq++) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        yield {
          camera: id,
          seq,
          capturedAt: Date.now(),
          ptsMs: null,
          name: `${id}-${seq}`,
          truth: null,
          image: { kind: 'file', file: `${id}-${seq}.jpg` },
        } satisfies CapturedFrame;
      }
    },
    stats: () => ({ decoded: count, dropped: 0, restarts: 0, gaps: [] }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

describe('runCameras: several cameras, one model', () => {
  it('takes the cameras in turn: a busy camera cannot starve another', async () => {
    const order: string[] = [];
    const step = async (f: CapturedFrame) => {
      order.push(f.camera);
      return null;
    };
    await runCameras(
      [
        { source: camera('busy', 50), step },
        { source: camera('quiet', 5), step },
      ],
      { maxInFlight: 4, log },
    );
    expect(order.filter((c) => c === 'busy')).toHaveLength(50);
    expect(order.filter((c) => c === 'quiet')).toHaveLength(5);
    // Round robin while both have frames: the quiet camera's five come among the first ten.
    expect(order.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, k) => (k % 2 ? 'quiet' : 'busy')));
  });

  it('a camera whose frames come slowly is served as soon as one is ready', async () => {
    const order: string[] = [];
    const step = async (f: CapturedFrame) => {
      order.push(`${f.camera}${f.seq}`);
      // The model takes 5 ms a frame.
      await new Promise((r) => setTimeout(r, 5));
      return null;
    };
    await runCameras(
      [
        { source: camera('fast', 40), step },
        { source: camera('slow', 3, 30), step },
      ],
      { maxInFlight: 4, log },
    );
    for (const seq of [0, 1, 2]) expect(order).toContain(`slow${seq}`);
    // Each slow frame is taken before the fast camera has run through everything it had.
    expect(order.indexOf('slow2')).toBeLessThan(order.length - 1);
  });

  it('bounds the cloud round trips in flight over every camera, and waits for all of them', async () => {
    let inFlight = 0;
    let most = 0;
    let settled = 0;
    const step = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      const cloud = new Promise<void>((r) => setTimeout(r, 2)).then(() => {
        inFlight--;
        settled++;
      });
      return { cloud };
    };
    await runCameras(
      [
        { source: camera('a', 20), step },
        { source: camera('b', 20), step },
      ],
      { maxInFlight: 3, log },
    );
    expect(settled).toBe(40);
    expect(most).toBeLessThanOrEqual(3);
    expect(inFlight).toBe(0);
  });
});
