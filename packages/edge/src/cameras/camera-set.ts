import type {
  CameraConfig,
  CameraSourceConfig,
  Detector,
  EdgeConfig,
  PrivacyConfig,
} from '@squeezegate/shared';
import type { Logger } from 'pino';
import { createPrivacyGuard, type PrivacyGuard } from '../privacy/privacy-guard.ts';
import type { FfmpegInfo } from '../source/ffmpeg.ts';
import { locateFfmpeg } from '../source/ffmpeg.ts';
import type { CapturedFrame, FrameSource, Scale } from '../source/frame-source.ts';
import { looksLikeVideo, openFrameSource } from '../source/open-source.ts';
import { type CameraCounter, createCameraCounter, sourceKind } from './camera-stats.ts';

/** One camera of the agent, opened: its settings, source, privacy guard and counts. */
export interface OpenCamera {
  readonly id: string;
  readonly settings: Required<Pick<EdgeConfig, 'policy' | 'payload' | 'privacy'>>;
  readonly video: boolean;
  readonly source: FrameSource;
  readonly privacy: PrivacyGuard;
  readonly counter: CameraCounter;
  /** Where the source reports a frame it dropped; the agent sets it once it exists. */
  onDrop: (frame: CapturedFrame) => void;
}

const where = (s: CameraSourceConfig) => (s.dir ?? s.url)!;
const isVideo = (s: CameraSourceConfig) => looksLikeVideo(where(s));

/** Whether a camera runs until stopped (a live source, a looping file) rather than to an end. */
export const isLive = (s: CameraSourceConfig) =>
  isVideo(s) && (s.loop || !/\.(mp4|mkv|avi|mov)$/i.test(where(s)));

/** The cameras a config lists (`cameras`), or its one `source`. */
export function cameraConfigs(config: Readonly<EdgeConfig>): (Omit<CameraConfig, 'id'> & { id?: string })[] {
  return config.cameras?.length ? config.cameras : [{ source: config.source! }];
}

/**
 * Opens every camera of the config: its frame source (ffmpeg located and probed once, and logged)
 * and its privacy guard (the face detector is shared). Closes what it opened if one fails.
 */
export async function openCameras(options: {
  config: Readonly<EdgeConfig>;
  scale: Scale;
  faces: Detector | null;
  logger: Logger;
}): Promise<OpenCamera[]> {
  const { config, scale, faces, logger } = options;
  const specs = cameraConfigs(config);
  let ffmpeg: FfmpegInfo | undefined;
  if (specs.some((c) => isVideo(c.source))) {
    ffmpeg = await locateFfmpeg({ explicit: config.video.ffmpeg });
    logger.info({ ffmpeg: ffmpeg.path, origin: ffmpeg.origin, version: ffmpeg.version }, 'using ffmpeg');
  }
  const opened: OpenCamera[] = [];
  try {
    for (const spec of specs) {
      const privacyConfig: PrivacyConfig = spec.privacy ?? config.privacy;
      const privacy = await createPrivacyGuard({
        config: privacyConfig,
        faceDetector: privacyConfig.faces === 'off' ? null : faces,
        onLedgerError: (err) => logger.error({ err }, 'privacy ledger write failed'),
      });
      let camera: OpenCamera | null = null;
      const s = spec.source;
      const source = await openFrameSource({
        source: where(s),
        camera: spec.id,
        fps: isVideo(s) ? s.fps || 5 : s.fps,
        scale,
        loop: s.loop,
        // A looping file is a camera: it runs at its own rate and the newest frame wins.
        pace: s.pace ?? (s.loop ? 'realtime' : 'asap'),
        rtspTransport: s.rtspTransport,
        directory: {
          labels: s.labels,
          limit: s.limit,
          offset: s.offset,
          stride: s.stride,
        },
        ffmpeg,
        logger,
        onDrop: (frame) => camera?.onDrop(frame),
      }).catch(async (err: unknown) => {
        await privacy.close();
        throw err;
      });
      const id = source.camera;
      camera = {
        id,
        settings: {
          policy: spec.policy ?? config.policy,
          payload: spec.payload ?? config.payload,
          privacy: privacyConfig,
        },
        video: isVideo(s),
        source,
        privacy,
        counter: createCameraCounter({ id, kind: sourceKind(where(s)), source: () => source }),
        onDrop: () => {},
      };
      opened.push(camera);
    }
  } catch (err) {
    await closeCameras(opened);
    throw err;
  }
  return opened;
}

export async function closeCameras(cameras: readonly OpenCamera[]): Promise<void> {
  await Promise.all(cameras.map((c) => c.source.close()));
  await Promise.all(cameras.map((c) => c.privacy.close()));
}
