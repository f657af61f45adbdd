import type { Box, Detection } from '@squeezegate/shared';
import { cloudVerdict } from '../detect/cloud-verdict.ts';
import type { GuardedPayload, PrivacyGuard } from '../privacy/privacy-guard.ts';
import type { Cut } from '../privacy/redact.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';
import { askCloud } from './ask-cloud.ts';
import type { ObjectOffload } from './detect-record.ts';

/** One payload of a detect frame: an uncertain object's crop, or the downscaled frame. */
export interface Job {
  payloadId: string;
  kind: 'object' | 'frame';
  detection?: Detection;
  cut: Cut;
}

/**
 * Sends a detect frame's rendered payloads to the cloud, each under its own id, and reads every
 * answer: the cloud classifier's verdict on an object's crop, the class of a frame. A withheld
 * payload sends nothing. Every payload that left is recorded by the privacy guard.
 */
export function sendObjects(args: {
  jobs: readonly Job[];
  rendered: readonly GuardedPayload[];
  link: GatewayLink | null;
  frame: { frameId: string; seq: number; name: string };
  reason: string;
  privacy: PrivacyGuard;
  relabelTo: readonly string[];
  deadlineMs: number;
  /** A detection's box as records carry it. */
  boxOf: (d: Detection) => Box;
}): Promise<ObjectOffload[]> {
  const { jobs, rendered, link, frame, reason, privacy, relabelTo, deadlineMs, boxOf } = args;
  return Promise.all(
    jobs.map(async (job, k): Promise<ObjectOffload> => {
      const out = rendered[k]!;
      const detection = job.detection
        ? { box: boxOf(job.detection), label: job.detection.label, score: job.detection.score }
        : undefined;
      const entry = { payloadId: job.payloadId, kind: job.kind, ...(detection ? { detection } : {}) };
      if (out.kind === 'withheld') {
        return {
          ...entry,
          bytes: 0,
          cloud: { status: 'withheld', faces: out.faces },
          verdict: null,
          redactions: null,
        };
      }
      const local = job.detection
        ? { index: job.detection.classIndex, label: job.detection.label, p: job.detection.score }
        : undefined;
      const reply = await askCloud(
        link,
        {
          frameId: job.payloadId,
          seq: frame.seq,
          ...(local ? { local } : {}),
          reason,
          redactions: out.redactions,
        },
        { bytes: out.bytes, view: job.kind === 'object' ? 'crop' : 'full', mime: 'image/jpeg' },
        deadlineMs,
      );
      if (reply.bytesSent > 0) {
        privacy.record(
          {
            frameId: frame.frameId,
            payloadId: job.payloadId,
            payload: job.kind === 'object' ? 'object' : 'frame',
            bytes: out.bytes.length,
            reason,
            redactions: out.redactions,
          },
          { bytes: out.bytes, source: frame.name, index: k, region: job.cut.region },
        );
      }
      return {
        ...entry,
        bytes: reply.bytesSent,
        cloud: reply.outcome,
        verdict:
          job.detection && reply.top ? cloudVerdict(job.detection.label, reply.top, { relabelTo }) : null,
        redactions: out.redactions,
      };
    }),
  );
}
