import {
  type ClassScore,
  type FrameHeader,
  MAX_OFFLOAD_REASON,
  type ShapedPayload,
} from '@squeezegate/shared';
import type { GatewayLink } from '../transport/gateway-link.ts';
import type { CloudOutcome } from './frame-record.ts';

const round = (ms: number) => Math.round(ms * 100) / 100;

export interface CloudReply {
  outcome: CloudOutcome;
  /** The cloud's ranked classes, when it answered. */
  top: readonly ClassScore[] | null;
  bytesSent: number;
}

/** Sends one payload to the gateway and turns whatever happens into an outcome; never rejects. */
export async function askCloud(
  link: GatewayLink | null,
  header: Omit<FrameHeader, 'type' | 'view' | 'mime' | 'capturedAt'>,
  shaped: ShapedPayload,
  deadlineMs: number,
): Promise<CloudReply> {
  if (!link)
    return { outcome: { status: 'unavailable', reason: 'no gateway configured' }, top: null, bytesSent: 0 };
  let sent: Awaited<ReturnType<GatewayLink['request']>>;
  try {
    // The reason is for the operator's eyes: a long one is cut, never a frame refused for it.
    const reason = header.reason?.slice(0, MAX_OFFLOAD_REASON);
    sent = await link.request(
      {
        type: 'frame',
        ...header,
        ...(reason === undefined ? {} : { reason }),
        view: shaped.view,
        mime: shaped.mime,
        capturedAt: Date.now(),
      },
      shaped.bytes,
      { deadlineMs },
    );
  } catch (err) {
    // A local failure on the way out (the spool's disk, the envelope): the frame keeps its local answer.
    const message = err instanceof Error ? err.message : String(err);
    return { outcome: { status: 'error', code: 'SEND_FAILED', message }, top: null, bytesSent: 0 };
  }
  const { answer: reply, bytesSent } = sent;
  switch (reply.kind) {
    case 'result': {
      const best = reply.result.top[0]!;
      return {
        outcome: {
          status: 'ok',
          index: best.index,
          label: best.label,
          p: best.p,
          model: reply.result.model,
          inferMs: reply.result.inferMs,
          rttMs: round(reply.rttMs),
        },
        top: reply.result.top,
        bytesSent,
      };
    }
    case 'timeout':
      return { outcome: { status: 'timeout', afterMs: reply.afterMs }, top: null, bytesSent };
    case 'expired':
      return { outcome: { status: 'expired', afterMs: reply.afterMs }, top: null, bytesSent };
    case 'error':
      return {
        outcome:
          reply.code === 'BUSY'
            ? { status: 'busy', message: reply.message }
            : { status: 'error', code: reply.code, message: reply.message },
        top: null,
        bytesSent,
      };
    case 'unavailable':
      return { outcome: { status: 'unavailable', reason: reply.reason }, top: null, bytesSent };
  }
}
