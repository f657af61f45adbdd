import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type RawImage, toModelView } from '@squeezegate/shared';
import sharp from 'sharp';
import type { CapturedFrame } from '../source/frame-source.ts';
import type { SceneGate } from '../temporal/scene-gate.ts';

/** What every record of a camera's frame starts with: ids, camera, and when it was captured. */
export interface FrameIdentity {
  frameId: string;
  deviceId: string;
  seq: number;
  file: string;
  /** The camera, when the agent reads a video source or several cameras. */
  camera?: string;
  /** Epoch ms the frame was read; position in the file (video files). */
  capturedAt?: number;
  ptsMs?: number | null;
}

/**
 * Frame ids are unique per device for good: a folder's are `<device>:<seq>` (as before); a
 * camera's carry the camera and the agent's start time, so that a restarted agent (whose camera
 * counts from 0 again) never reuses an id the gateway has already answered.
 */
export function frameIdentity(
  deviceId: string,
  frame: CapturedFrame,
  video: { runId: string } | null,
): FrameIdentity {
  if (!video || frame.image.kind === 'file') {
    return { frameId: `${deviceId}:${frame.seq}`, deviceId, seq: frame.seq, file: frame.name };
  }
  // The protocol's frame ids are at most 128 characters: a long camera id goes in as its hash.
  const camera =
    frame.camera.length <= 24
      ? frame.camera
      : createHash('sha256').update(frame.camera).digest('base64url').slice(0, 12);
  return {
    frameId: `${deviceId}:${camera}:${video.runId}:${frame.seq}`,
    deviceId,
    seq: frame.seq,
    file: frame.name,
    camera: frame.camera,
    capturedAt: frame.capturedAt,
    ptsMs: frame.ptsMs,
  };
}

/** The frame's bytes as captured: the file, or nothing for a raw camera frame (decoded already). */
export async function capturedBytesOf(frame: CapturedFrame): Promise<Buffer | null> {
  return frame.image.kind === 'file' ? readFile(frame.image.file) : null;
}

/** The classifier's view of a frame: decoded from its file, or cut from a camera's raw pixels. */
export function modelViewOf(
  frame: CapturedFrame,
  bytes: Buffer | null,
  preprocess: Parameters<typeof toModelView>[1]['preprocess'],
) {
  return toModelView(frame.image.kind === 'raw' ? frame.image.raw : bytes!, { preprocess });
}

/** A raw frame as JPEG, for payloads that need "the frame as captured" when there is no file. */
export function encodeRaw(raw: RawImage, quality: number): Promise<Buffer> {
  return sharp(raw.pixels, { raw: { width: raw.width, height: raw.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/**
 * Asks the scene gate about a camera frame: the frame whose result this one may reuse, or null
 * when it must go through the model (or is no camera frame, or there is no gate).
 */
export function gateCheck(gate: SceneGate | null, frame: CapturedFrame): { since: number } | null {
  if (!gate || frame.image.kind !== 'raw') return null;
  const { raw } = frame.image;
  const decision = gate.check({
    seq: frame.seq,
    atMs: frame.capturedAt,
    pixels: raw.pixels,
    width: raw.width,
    height: raw.height,
  });
  return decision.kind === 'unchanged' ? { since: decision.since } : null;
}
