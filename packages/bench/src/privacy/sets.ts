// The two sets the privacy targets are stated on (issue 15): the ten face photos of the detection
// sample, and people on a street, vtest.avi at one frame every 2 s, every other one kept (the
// frames the reviewed non-faces of packages/edge/test/audit/fixtures/vtest-not-faces.json name).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface AuditSet {
  name: 'faces' | 'street';
  dir: string;
}

/** Copies the face photos (faces_*.jpg) of `detectionImages` into `work`/faces. */
async function facePhotos(detectionImages: string, work: string): Promise<AuditSet> {
  const dir = path.join(work, 'faces');
  await mkdir(dir, { recursive: true });
  const names = (await readdir(detectionImages)).filter((n) => /^faces_.*\.jpe?g$/i.test(n));
  if (names.length === 0) throw new Error(`${detectionImages} holds no faces_*.jpg`);
  for (const n of names) await copyFile(path.join(detectionImages, n), path.join(dir, n));
  return { name: 'faces', dir };
}

/** vtest.avi at fps 0.5 through `ffmpeg`, every other frame kept, as vtest_NNNN.jpg in `work`/street. */
async function streetFrames(video: string, ffmpeg: string, work: string): Promise<AuditSet> {
  const all = path.join(work, 'street-all');
  const dir = path.join(work, 'street');
  await mkdir(all, { recursive: true });
  await mkdir(dir, { recursive: true });
  const pattern = path.join(all, 'vtest_%04d.jpg');
  await run(ffmpeg, ['-v', 'error', '-i', video, '-vf', 'fps=0.5', '-q:v', '2', pattern]);
  const names = (await readdir(all)).sort();
  for (const n of names.filter((_, i) => i % 2 === 0)) await copyFile(path.join(all, n), path.join(dir, n));
  await rm(all, { recursive: true });
  return { name: 'street', dir };
}

export async function prepareSets(o: {
  detectionImages: string;
  video: string;
  ffmpeg: string;
  work: string;
}): Promise<AuditSet[]> {
  return [await facePhotos(o.detectionImages, o.work), await streetFrames(o.video, o.ffmpeg, o.work)];
}
