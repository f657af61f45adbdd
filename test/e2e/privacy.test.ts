/**
 * Privacy you can prove (issue 15). Every payload that leaves is dumped as it was sent; an audit
 * then looks for faces in each payload and in its unredacted equivalent (the same cut of the
 * source frame) with the face models the redaction did not use. Targets, per payload kind and
 * task: no face 24 px wide or more still found after redaction, at most 2 % of the smaller ones.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  type AuditReport,
  auditDump,
  createDetectAgent,
  createEdgeAgent,
  createPolicy,
  createPrivacyGuard,
  DUMP_INDEX,
  defaultAuditorIds,
  type FrameRecord,
  LARGE_FACE_PX,
  MAX_SMALL_LEAK_SHARE,
  openFrameSource,
  packagedFfmpegPath,
  readDumpIndex,
  readNotFaces,
  summarizeAudit,
} from '@squeezegate/edge';
import {
  type Classifier,
  createOnnxClassifier,
  DEFAULT_FACE_SEARCH_ID,
  type Detector,
  DetectSchema,
  loadLabels,
  openDetector,
  PrivacySchema,
  resolveModel,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectionDatasetDir,
  haveDetectionModels,
  haveRealModels,
  modelsDir,
  repoRoot,
  testLogger,
} from '../support/env.ts';
import { fakeLink } from '../support/fake-link.ts';

const run = promisify(execFile);
const ffmpeg = packagedFfmpegPath();
const VTEST = path.resolve(repoRoot, '../shared/datasets/video-sample/vtest.avi');
/** Auditor boxes on the street frames reviewed as not faces (a van's back, a wall, a back). */
const NOT_FACES = path.join(repoRoot, 'packages/edge/test/audit/fixtures/vtest-not-faces.json');

const images = path.join(detectionDatasetDir, 'images');

/** A folder holding the sample images whose names match. */
async function subset(pattern: RegExp): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-privacy-'));
  for (const name of (await readdir(images)).filter((n) => pattern.test(n))) {
    await copyFile(path.join(images, name), path.join(dir, name));
  }
  return dir;
}

/**
 * People on a street: vtest.avi at one frame every 2 s (vtest_0001.jpg …, the names the reviewed
 * non-faces use), every other one kept.
 */
async function streetFrames(): Promise<string> {
  const all = await mkdtemp(path.join(tmpdir(), 'sg-vtest-all-'));
  await run(ffmpeg!, [
    '-v',
    'error',
    '-i',
    VTEST,
    '-vf',
    'fps=0.5',
    '-q:v',
    '2',
    path.join(all, 'vtest_%04d.jpg'),
  ]);
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-vtest-'));
  const names = (await readdir(all)).sort();
  for (const name of names.filter((_, i) => i % 2 === 0))
    await copyFile(path.join(all, name), path.join(dir, name));
  return dir;
}

/** A folder of frames as the agent's camera. */
const folder = (dir: string) =>
  openFrameSource({ source: dir, scale: { shortSide: 256 }, logger: testLogger });

type Kind = 'crop' | 'frame' | 'original' | 'detect';

describe.skipIf(!haveDetectionModels || !haveRealModels || !ffmpeg)('privacy you can prove', () => {
  let faces: string;
  let street: string;
  let search: Detector;
  let auditor: Detector;
  let classifier: Classifier;
  let yolox: Detector;
  let labels: readonly string[];
  const notFaces = readNotFaces(NOT_FACES);

  beforeAll(async () => {
    [faces, street] = await Promise.all([subset(/^faces_/), streetFrames()]);
    search = await openDetector({ id: DEFAULT_FACE_SEARCH_ID, modelsDir, threads: 2 });
    auditor = await openDetector({ id: 'ultraface-rfb640', modelsDir });
    classifier = await createOnnxClassifier(await resolveModel('squeezenet1.1', modelsDir));
    yolox = await openDetector({ id: 'yolox-nano-416', modelsDir });
    labels = await loadLabels(modelsDir);
  }, 120_000);
  afterAll(async () => {
    await search?.close();
    await auditor?.close();
    await classifier?.close();
    await yolox?.close();
  });

  /**
   * Runs one agent over a folder with every offload going up (classify: policy always; detect:
   * every detection a crop, people included, the harshest case) and its payloads dumped.
   */
  async function send(kind: Kind, source: string, faceMode: 'pixelate' | 'off' = 'pixelate') {
    const dump = await mkdtemp(path.join(tmpdir(), `sg-dump-${kind}-`));
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: faceMode, payloadDump: dump }),
      faceDetector: faceMode === 'off' ? null : search,
    });
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    const records: FrameRecord[] = [];
    const common = { link, deadlineMs: 100, maxInFlight: 4, logger: testLogger, privacy: guard };
    const agent =
      kind === 'detect'
        ? createDetectAgent({
            ...common,
            deviceId: 'cam-detect',
            detector: yolox,
            config: DetectSchema.parse({ confident: 1, uncertain: 0.3, maxCrops: 16, emptyFrame: 0.05 }),
            quality: 85,
            onRecord: () => {},
            verifiable: () => true,
          })
        : createEdgeAgent({
            ...common,
            deviceId: `cam-${kind}`,
            classifier,
            labels,
            policy: createPolicy({ kind: 'always' }),
            payload: { kind, codec: 'jpeg', quality: 85 },
            onRecord: (r) => records.push(r),
          });
    await agent.run(await folder(source));
    await guard.close();
    return { dump, link, records };
  }

  async function audit(dump: string, source: string): Promise<AuditReport> {
    const auditors = [{ detector: auditor, threshold: 0.6 }];
    const { payloads, unaudited } = await auditDump({
      dumpDir: dump,
      sourceDir: source,
      auditors,
      notFaces: await notFaces,
    });
    return summarizeAudit(payloads, {
      dump,
      source,
      auditors: [{ id: auditor.spec.id, threshold: 0.6 }],
      minIou: 0.3,
      unaudited,
    });
  }

  /** What a report says, for a message that shows the leaks when an assertion fails. */
  const told = (r: AuditReport) =>
    `${r.total.leaked} of ${r.total.faces} faces leaked: ${r.leaks
      .map((l) => `${l.file} ${l.width.toFixed(0)} px (source ${l.sourceBox.map(Math.round)})`)
      .join('; ')}`;

  /** Per payload kind, both sets together: no large leak, at most 2 % of the small faces. */
  function expectTargets(reports: readonly AuditReport[]) {
    const large = reports.reduce((n, r) => n + r.total.large.leaked, 0);
    const small = reports.reduce((n, r) => n + r.total.small.faces, 0);
    const smallLeaked = reports.reduce((n, r) => n + r.total.small.leaked, 0);
    for (const r of reports) expect(r.total.large.leaked, `≥ ${LARGE_FACE_PX} px: ${told(r)}`).toBe(0);
    expect(large).toBe(0);
    expect(smallLeaked, reports.map(told).join('\n')).toBeLessThanOrEqual(MAX_SMALL_LEAK_SHARE * small);
  }

  it.each(['original', 'frame', 'crop'] as const)(
    'classify, %s payloads: what left is dumped as sent, and the audit finds no face left',
    async (kind) => {
      const reports: AuditReport[] = [];
      for (const source of [faces, street]) {
        const { dump, link, records } = await send(kind, source);
        const frames = (await readdir(source)).length;
        expect(records).toHaveLength(frames);
        // Every payload that left is in the dump, byte for byte.
        const entries = await readDumpIndex(dump);
        expect(entries).toHaveLength(link.payloads.length);
        expect(link.payloads).toHaveLength(frames);
        for (const e of entries) {
          const bytes = await readFile(path.join(dump, e.file));
          expect(
            link.payloads.some((p) => p.equals(bytes)),
            e.file,
          ).toBe(true);
          expect(e.file).toBe(`${path.parse(e.source).name}.0.jpg`);
          expect(e.redactions.faceModel).toBe(DEFAULT_FACE_SEARCH_ID);
        }
        // The auditor is the face model the redaction did not use.
        expect(defaultAuditorIds(entries)).toEqual([auditor.spec.id]);
        reports.push(await audit(dump, source));
      }
      const [onFaces] = reports;
      // The photos hold hundreds of faces (fewer in a 224 crop): the audit had work to do.
      expect(onFaces!.total.faces).toBeGreaterThan(kind === 'crop' ? 100 : 200);
      expect(onFaces!.total.large.faces).toBeGreaterThan(20);
      expectTargets(reports);
    },
    600_000,
  );

  it('detect: object crops and frames, people included, pass the audit', async () => {
    const reports: AuditReport[] = [];
    for (const source of [faces, street]) {
      const { dump, link } = await send('detect', source);
      const entries = await readDumpIndex(dump);
      expect(entries).toHaveLength(link.payloads.length);
      expect(entries.every((e) => e.payloadId.includes('#'))).toBe(true);
      reports.push(await audit(dump, source));
    }
    // People's crops went up from both sets: faces to hide, large ones among them.
    expect(reports[0]!.total.large.faces).toBeGreaterThan(50);
    expect(reports[1]!.payloads).toBeGreaterThan(20);
    expectTargets(reports);
  }, 600_000);

  it('can fail: with redaction off the same audit finds the faces', async () => {
    const { dump } = await send('original', faces, 'off');
    const entries = await readDumpIndex(dump);
    // Nothing redacted, nothing named: every face model may audit.
    expect(entries.every((e) => e.redactions.faceModel === undefined && e.redactions.faces === 0)).toBe(true);
    expect(defaultAuditorIds(entries)).toEqual(['ultraface-rfb320', 'ultraface-rfb640', 'yunet-s']);
    const report = await audit(dump, faces);
    expect(report.targets.met).toBe(false);
    expect(report.total.large.leaked).toBeGreaterThan(50);
    expect(report.total.leaked).toBeGreaterThan(0.8 * report.total.faces);
    expect(await readFile(path.join(dump, DUMP_INDEX), 'utf8')).toMatch(/"metadata":"kept"/);
  }, 600_000);

  it('withhold: frames showing a face never leave', async () => {
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: 'withhold' }),
      faceDetector: search,
    });
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    const records: FrameRecord[] = [];
    const agent = createEdgeAgent({
      deviceId: 'cam-w',
      classifier,
      labels,
      link,
      policy: createPolicy({ kind: 'always' }),
      payload: { kind: 'crop', codec: 'jpeg', quality: 85 },
      privacy: guard,
      deadlineMs: 100,
      maxInFlight: 4,
      logger: testLogger,
      onRecord: (r) => records.push(r),
    });
    await agent.run(await folder(await subset(/^(faces_0[1-3]|coco_000000000025)/)));
    const byFile = Object.fromEntries(records.map((r) => [r.file, r]));
    for (const file of ['faces_01.jpg', 'faces_02.jpg', 'faces_03.jpg']) {
      expect(byFile[file]!.cloud).toMatchObject({ status: 'withheld' });
      expect(byFile[file]!.final?.source).toBe('local');
    }
    // The giraffe has no face: it goes.
    expect(byFile['coco_000000000025.jpg']!.bytesSent).toBeGreaterThan(0);
    expect(link.payloads).toHaveLength(1);
  });
});
