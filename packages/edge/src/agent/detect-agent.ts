import { readFile } from 'node:fs/promises';
import { type DetectConfig, type Detection, type Detector, decodeImage } from '@squeezegate/shared';
import type { Logger } from 'pino';
import { cloudVerdict } from '../detect/cloud-verdict.ts';
import { candidateFloor, planObjects } from '../detect/object-plan.ts';
import type { GuardedPayload, PrivacyGuard } from '../privacy/privacy-guard.ts';
import { type Cut, classificationCut, squareAround } from '../privacy/redact.ts';
import type { DirectorySource, SourceFrame } from '../source/directory-source.ts';
import type { GatewayLink } from '../transport/gateway-link.ts';
import { askCloud } from './ask-cloud.ts';
import type { DetectRecord, FinalDetection, ObjectOffload } from './detect-record.ts';
import type { EdgeAgent } from './edge-agent.ts';
import { frameFailure, replayFrames, totalsReporter } from './replay.ts';

/** The cloud classifier's view (torchvision): object crops are sent at its input size. */
const CLOUD_VIEW = { resizeShortSide: 256, centerCrop: 224 };

export interface DetectAgentOptions {
  deviceId: string;
  detector: Detector;
  /** The link to the gateway; null runs edge-only. */
  link: GatewayLink | null;
  config: DetectConfig;
  /** Cuts, redacts and accounts for every payload (faces off and no masks: plain cuts). */
  privacy: PrivacyGuard;
  /** JPEG quality of crops and frames. */
  quality: number;
  deadlineMs: number;
  maxInFlight: number;
  logger: Logger;
  onRecord: (record: DetectRecord) => void;
  /** Classes worth a crop (default: those ImageNet can verify, see isVerifiable). */
  verifiable?: (label: string) => boolean;
  now?: () => number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const tenth = (px: number) => Math.round(px * 10) / 10;

interface Job {
  payloadId: string;
  kind: 'object' | 'frame';
  detection?: Detection;
  cut: Cut;
}

/**
 * The detect task: finds objects locally; a frame whose detections are all confident stays on
 * the device, an uncertain detection sends only its padded crop for the cloud classifier to
 * verify or refine, and an empty frame with a near miss sends the downscaled frame.
 */
export function createDetectAgent(options: DetectAgentOptions): EdgeAgent {
  const { deviceId, detector, link, config, privacy, quality, deadlineMs, maxInFlight, onRecord } = options;
  const now = options.now ?? (() => performance.now());
  const log = options.logger.child({ component: 'detect-agent', deviceId });
  const minScore = config.minScore ?? detector.spec.thresholds.score;
  const floor = candidateFloor(config, minScore);
  const { record, flush } = totalsReporter<DetectRecord>(link, onRecord, now);
  const final = (d: Detection, source: FinalDetection['source'], refined?: string): FinalDetection => ({
    box: [tenth(d.box[0]), tenth(d.box[1]), tenth(d.box[2]), tenth(d.box[3])],
    label: d.label,
    classIndex: d.classIndex,
    score: Math.round(d.score * 1000) / 1000,
    source,
    ...(refined ? { refined } : {}),
  });

  async function processFrame(frame: SourceFrame): Promise<{ cloud: Promise<void> } | null> {
    const t0 = now();
    const frameId = `${deviceId}:${frame.seq}`;
    const base = {
      task: 'detect' as const,
      frameId,
      deviceId,
      seq: frame.seq,
      file: frame.name,
      model: detector.spec.id,
    };
    let capturedBytes = 0;
    try {
      const bytes = await readFile(frame.file);
      capturedBytes = bytes.length;
      const image = await decodeImage(bytes);
      const t1 = now();
      const { detections: candidates } = await detector.detect(image, {
        scoreThreshold: floor,
        tiling: config.tiling,
      });
      const t2 = now();
      const plan = planObjects(candidates, config, minScore, options.verifiable);
      const verifying = new Set(plan.verify);
      const edgeOnly = candidates.filter((d) => d.score >= minScore);
      const local = edgeOnly.filter((d) => !verifying.has(d)).map((d) => final(d, 'local'));
      const frameBase = {
        ...base,
        capturedBytes,
        width: image.width,
        height: image.height,
        local: edgeOnly.map((d) => final(d, 'local')),
      };
      const timings = { decodeMs: round(t1 - t0), detectMs: round(t2 - t1) };
      if (plan.verify.length === 0 && !plan.sendFrame) {
        record({
          ...frameBase,
          detections: local,
          decision: { kind: 'local', reason: plan.reason },
          offloads: [],
          scene: null,
          faces: null,
          bytesSent: 0,
          error: null,
          timings: { ...timings, payloadMs: 0, cloudMs: null, totalMs: round(now() - t0) },
        });
        return null;
      }
      const jobs: Job[] = plan.verify.map((d, k) => ({
        payloadId: `${frameId}#o${k}`,
        kind: 'object',
        detection: d,
        cut: {
          region: squareAround(d.box, config.cropPadding, image),
          width: CLOUD_VIEW.centerCrop,
          height: CLOUD_VIEW.centerCrop,
        },
      }));
      if (plan.sendFrame)
        jobs.push({
          payloadId: `${frameId}#frame`,
          kind: 'frame',
          cut: classificationCut('frame', image, CLOUD_VIEW),
        });
      const scan = await privacy.scan(image);
      const rendered: GuardedPayload[] = [];
      for (const job of jobs) rendered.push(await privacy.render(image, scan, job.cut, quality));
      const t3 = now();
      const payloadMs = round(t3 - t2);
      const withheld = rendered.some((r) => r.kind === 'withheld');
      const cloudDone = Promise.all(
        jobs.map(async (job, k): Promise<ObjectOffload> => {
          const out = rendered[k]!;
          const detection = job.detection
            ? {
                box: final(job.detection, 'local').box,
                label: job.detection.label,
                score: job.detection.score,
              }
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
            { frameId: job.payloadId, seq: frame.seq, ...(local ? { local } : {}) },
            { bytes: out.bytes, view: job.kind === 'object' ? 'crop' : 'full', mime: 'image/jpeg' },
            deadlineMs,
          );
          if (reply.bytesSent > 0) {
            privacy.record({
              frameId,
              payloadId: job.payloadId,
              payload: job.kind === 'object' ? 'object' : 'frame',
              bytes: out.bytes.length,
              reason: plan.reason,
              redactions: out.redactions,
            });
          }
          return {
            ...entry,
            bytes: reply.bytesSent,
            cloud: reply.outcome,
            verdict:
              job.detection && reply.top
                ? cloudVerdict(job.detection.label, reply.top, { relabelTo: detector.labels })
                : null,
            redactions: out.redactions,
          };
        }),
      ).then((offloads) => {
        const detections = [...local];
        let scene: DetectRecord['scene'] = null;
        for (const [k, o] of offloads.entries()) {
          const d = jobs[k]!.detection;
          if (!d) {
            if (o.cloud.status === 'ok') scene = { index: o.cloud.index, label: o.cloud.label, p: o.cloud.p };
            continue;
          }
          const v = o.verdict;
          if (v?.kind === 'confirmed') detections.push(final(d, 'cloud', v.refined));
          else if (v?.kind === 'relabelled') {
            const classIndex = detector.labels.indexOf(v.label);
            detections.push({ ...final(d, 'cloud', v.refined), label: v.label, classIndex });
          } else if (v?.kind === 'rejected')
            log.debug({ frameId, detection: o.detection, verdict: v }, 'cloud rejected a detection');
          else if (d.score >= minScore) detections.push(final(d, 'local'));
        }
        detections.sort((a, b) => b.score - a.score);
        record({
          ...frameBase,
          detections,
          decision: withheld
            ? { kind: 'local', reason: `${plan.reason}; withheld: ${scan.faces.length} face(s) in the frame` }
            : { kind: 'offload', reason: plan.reason },
          offloads,
          scene,
          faces: scan.faces.length,
          bytesSent: offloads.reduce((s, o) => s + o.bytes, 0),
          error: null,
          timings: {
            ...timings,
            payloadMs,
            cloudMs: withheld ? null : round(now() - t3),
            totalMs: round(now() - t0),
          },
        });
      });
      return { cloud: cloudDone };
    } catch (err) {
      const { code, message } = frameFailure(err);
      log.warn({ frameId, file: frame.name, code, err }, 'frame failed, going on with the next');
      record({
        ...base,
        capturedBytes,
        width: 0,
        height: 0,
        local: [],
        detections: [],
        decision: { kind: 'failed', reason: message },
        offloads: [],
        scene: null,
        faces: null,
        bytesSent: 0,
        error: { code, message },
        timings: { decodeMs: 0, detectMs: 0, payloadMs: 0, cloudMs: null, totalMs: round(now() - t0) },
      });
      return null;
    }
  }

  return {
    async run(source: DirectorySource, { signal } = {}) {
      await replayFrames(source, processFrame, { maxInFlight, log, signal });
      flush();
    },
  };
}
