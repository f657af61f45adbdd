// What the gateway did with a case, as the client saw it, and whether that is what the protocol says.
import { encodeFrame, type ServerMessage } from '@squeezegate/shared';
import { type Client, FRAME_WAIT_MS, PROTOCOL_WAIT_MS } from './client.ts';
import type { Expect, Wire } from './plan.ts';

/** What the gateway did with one case, as the client saw it. */
export type Outcome =
  | { kind: 'answered'; answers: ServerMessage[] }
  | { kind: 'welcome' }
  | { kind: 'silent' }
  | { kind: 'refused'; code: string; close: number | null }
  | { kind: 'closed'; close: number }
  | { kind: 'http'; status: number }
  | { kind: 'hang'; detail: string }
  | { kind: 'done' };

/** Waits for what the case's expectation is about, then names what happened. */
export async function settle(c: Client, expected: Expect, ms: number): Promise<Outcome> {
  const frameIds = expected.answers?.frameIds ?? [];
  const answered = () => frameIds.filter((id) => c.inbox.some((m) => 'frameId' in m && m.frameId === id));
  const sessionError = () => c.inbox.find((m) => m.type === 'error' && m.frameId === undefined);
  const welcomed = () => c.inbox.some((m) => m.type === 'welcome');
  await c.until(
    () =>
      c.closed !== null ||
      sessionError() !== undefined ||
      (expected.welcome === true && welcomed()) ||
      (frameIds.length > 0 && answered().length === frameIds.length),
    ms,
  );
  const refusal = sessionError();
  // An error for the session is followed by its close; give the close its moment.
  if (refusal && !c.closed) await c.until(() => c.closed !== null, PROTOCOL_WAIT_MS);
  if (refusal?.type === 'error')
    return { kind: 'refused', code: refusal.code, close: c.closed?.code ?? null };
  if (c.closed) return { kind: 'closed', close: c.closed.code };
  if (expected.welcome && welcomed()) return { kind: 'welcome' };
  if (frameIds.length > 0 && answered().length === frameIds.length) {
    return {
      kind: 'answered',
      answers: c.inbox.filter(
        (m) => 'frameId' in m && m.frameId !== undefined && frameIds.includes(m.frameId),
      ),
    };
  }
  if (expected.silent) return { kind: 'silent' };
  return {
    kind: 'hang',
    detail: `nothing within ${ms} ms (${answered().length}/${frameIds.length} answered)`,
  };
}

/** Sends a case's messages on a client and settles; stats, which are never answered, get a probe frame after them. */
export async function exchange(
  c: Client,
  send: readonly Wire[],
  expected: Expect,
  probe: string,
): Promise<Outcome> {
  for (const w of send) c.ws.send(w.data, { binary: w.binary });
  if (!expected.silent) return settle(c, expected, expected.answers ? FRAME_WAIT_MS : PROTOCOL_WAIT_MS);
  // Answered in order: the probe's answer means the stats were taken in silence, the session still up.
  const header = { type: 'frame', frameId: probe, seq: 0, view: 'crop', mime: 'image/png' } as const;
  c.ws.send(encodeFrame(header, Buffer.from('no image')));
  const outcome = await settle(
    c,
    { answers: { frameIds: [probe], errors: ['IMAGE_UNDECODABLE'] } },
    PROTOCOL_WAIT_MS,
  );
  return outcome.kind === 'answered' ? { kind: 'silent' } : outcome;
}

/** Why an outcome is wrong for the expectation, or null when it is one of the right ones. */
export function judge(expected: Expect, outcome: Outcome): string | null {
  switch (outcome.kind) {
    case 'answered': {
      const a = expected.answers;
      if (!a) return 'answered, but a refusal or close was due';
      for (const m of outcome.answers) {
        if (m.type === 'error' && !a.errors.includes(m.code)) return `frame answered ${m.code}: ${m.message}`;
        if (m.type === 'result' && a.top1 !== undefined && m.top[0]?.index !== a.top1) {
          return `top-1 ${m.top[0]?.label} (${m.top[0]?.index}), expected class ${a.top1}`;
        }
      }
      return null;
    }
    case 'welcome':
      return expected.welcome ? null : 'welcomed';
    case 'silent':
      return expected.silent ? null : 'no answer at all';
    case 'refused':
      if (!expected.refusal?.includes(outcome.code)) return `refused ${outcome.code}`;
      return outcome.close === 1008 ? null : `refused ${outcome.code} but closed ${outcome.close ?? 'never'}`;
    case 'closed':
      return expected.close?.includes(outcome.close) ? null : `closed ${outcome.close}`;
    case 'http':
      return expected.http?.includes(outcome.status) ? null : `HTTP ${outcome.status}`;
    case 'hang':
      return `hang: ${outcome.detail}`;
    case 'done':
      return null;
  }
}
