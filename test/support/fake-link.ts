import type { GatewayLink, LinkAnswer } from '@squeezegate/edge';
import type { FrameHeader } from '@squeezegate/shared';

/**
 * A gateway link that answers each frame with `reply` and keeps what was sent: the headers and
 * the payload bytes. Bytes sent count the payload plus a 100-byte envelope.
 */
export function fakeLink(
  reply: (header: FrameHeader) => LinkAnswer,
): GatewayLink & { sent: FrameHeader[]; payloads: Buffer[] } {
  const sent: FrameHeader[] = [];
  const payloads: Buffer[] = [];
  return {
    sent,
    payloads,
    state: 'open',
    lastError: null,
    welcome: null,
    gateway: 'ws://fake-link.invalid/v1/edge',
    async request(header, image) {
      sent.push(header);
      payloads.push(Buffer.from(image));
      return { answer: reply(header), bytesSent: image.length + 100 };
    },
    stats: () => ({
      messageBytes: 0,
      wireBytes: 0,
      framesSent: sent.length,
      reportBytes: 0,
      reconnects: 0,
      resent: 0,
      late: 0,
      busy: 0,
      backoffs: 0,
      failovers: 0,
    }),
    report: () => {},
    async close() {},
  };
}
