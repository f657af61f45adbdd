// Overload with one greedy device (issue 13 §2, fairness): a live gateway (real model, a small
// queue) and a device that sends back to back, keeping far more frames outstanding than the whole
// queue holds and sending again at once on every answer, BUSY included; beside it, honest devices
// that send one frame at a time. The greedy device's frames are shed; the honest devices' frames
// are all answered with results, because each device has its share of the queue. What is asserted
// follows from the rule, not from this machine's speed: no honest frame shed, the greedy one shed.
import { createGateway, type Gateway } from '@squeezegate/gateway';
import { encodeFrame, GatewayConfigSchema } from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir, testLogger } from '../support/env.ts';
import { buildAssets } from './fuzz/assets.ts';
import { authedClient, type Client, FRAME_WAIT_MS, sleep } from './fuzz/client.ts';

const MAX_QUEUE = 16;
/** Frames the greedy device keeps outstanding: four times the whole queue. */
const GREEDY_WINDOW = 4 * MAX_QUEUE;
const HONEST = ['honest-a', 'honest-b', 'honest-c'] as const;
/** Frames each honest device sends, one at a time, each after the previous one's answer. */
const HONEST_FRAMES = 12;
const token = (id: string) => `${id}-token-0123456789`;

describe.skipIf(!haveRealModels)('overload: one greedy device does not get the honest ones shed', () => {
  let gateway: Gateway;
  let tench: Buffer;
  beforeAll(async () => {
    tench = (await buildAssets(datasetDir)).tench;
    gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: ['greedy', ...HONEST].map((id) => ({ id, token: token(id) })),
        maxBatch: 4,
        maxQueue: MAX_QUEUE,
      }),
      logger: testLogger,
    });
  });
  afterAll(() => gateway && Promise.race([gateway.close(), sleep(10_000)]));

  it('answers every honest frame with a result while the greedy device is shed', async () => {
    const frame = (c: Client, frameId: string, seq: number) =>
      c.ws.send(encodeFrame({ type: 'frame', frameId, seq, view: 'full', mime: 'image/jpeg' }, tench));

    // The greedy device: GREEDY_WINDOW frames at once, then a new one for every answer it gets.
    const greedy = (await authedClient(gateway.edgeUrl, { id: 'greedy', token: token('greedy') }))!;
    let greedySeq = 0;
    let stop = false;
    const greedyAnswers = { result: 0, busy: 0, other: [] as string[] };
    greedy.ws.on('message', () => {
      for (const m of greedy.inbox.splice(0)) {
        if (m.type === 'result') greedyAnswers.result++;
        else if (m.type === 'error' && m.code === 'BUSY') greedyAnswers.busy++;
        else if (m.type !== 'welcome' && m.type !== 'policy') greedyAnswers.other.push(JSON.stringify(m));
        if (!stop) frame(greedy, `g${greedySeq}`, greedySeq++);
      }
    });
    for (let i = 0; i < GREEDY_WINDOW; i++) frame(greedy, `g${greedySeq}`, greedySeq++);
    // The queue is full before any honest device sends: the greedy device has been shed.
    await greedy.until(() => greedyAnswers.busy > 0, FRAME_WAIT_MS);

    // Each honest device: one frame, its answer, the next.
    const honest = await Promise.all(
      HONEST.map(async (id) => {
        const c = (await authedClient(gateway.edgeUrl, { id, token: token(id) }))!;
        const answers: string[] = [];
        for (let seq = 0; seq < HONEST_FRAMES; seq++) {
          const before = c.inbox.filter((m) => m.type !== 'welcome').length;
          frame(c, `${id}-${seq}`, seq);
          await c.until(() => c.inbox.filter((m) => m.type !== 'welcome').length > before, FRAME_WAIT_MS);
          const m = c.inbox.filter((x) => x.type !== 'welcome')[before];
          answers.push(m === undefined ? 'none' : m.type === 'error' ? m.code : m.type);
        }
        c.ws.close();
        return { id, answers };
      }),
    );
    stop = true;
    const greedyShedBefore = greedyAnswers.busy;
    greedy.ws.close();

    for (const h of honest) expect(h.answers, h.id).toEqual(Array(HONEST_FRAMES).fill('result'));
    // The greedy device was under load the whole time (shed) and still served (results).
    expect(greedyShedBefore).toBeGreaterThan(0);
    expect(greedyAnswers.result).toBeGreaterThan(0);
    expect(greedyAnswers.other).toEqual([]);
  });
});
