import { createFleetControl } from '@squeezegate/gateway';
import { PolicyMessageSchema, parseJsonMessage } from '@squeezegate/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

describe('fleet control: the controller wired to the sessions', () => {
  it('broadcasts each bar as a valid policy message, exposes it, and lifts it on close', async () => {
    const sent: string[] = [];
    let t = 0;
    let framesIn = 0;
    const registry = new Registry();
    const control = createFleetControl({
      fleet: { budgetCloudFps: 10, intervalMs: 60_000, measure: 'maxProb' },
      sample: () => ({
        framesIn,
        bytesIn: framesIn * 1000,
        queued: 0,
        maxQueue: 64,
        busy: 0,
        served: framesIn,
      }),
      broadcast: (text) => {
        sent.push(text);
        return 3;
      },
      logger: pino({ level: 'silent' }),
      registry,
      now: () => t,
    });
    expect(control.current()).toBeNull();
    control.tick();
    // Twice the budget for a second: the bar comes down.
    t = 1000;
    framesIn = 20;
    control.tick();
    const messages = sent.map((text) => parseJsonMessage(PolicyMessageSchema, text));
    expect(messages.every((m) => m.ok)).toBe(true);
    const [first, second] = messages.map((m) => (m.ok ? m.value : null));
    expect(first?.seq).toBe(0);
    expect(second?.seq).toBe(1);
    expect(second!.threshold!).toBeLessThan(first!.threshold!);
    expect(second?.reason).toBe('fleet 20.0/10 fps');
    expect(second?.ttlMs).toBe(300_000);
    expect(control.current()).toEqual(second);
    expect(await registry.getSingleMetricAsString('squeezegate_fleet_load')).toMatch(
      /squeezegate_fleet_load 2$/m,
    );
    await control.close();
    await control.close();
    const last = parseJsonMessage(PolicyMessageSchema, sent.at(-1)!);
    expect(sent).toHaveLength(3);
    expect(last.ok && last.value.threshold).toBeNull();
  });
});
