import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createPrivacyGuard,
  DUMP_INDEX,
  DumpEntrySchema,
  dumpFileName,
  extensionOf,
  openPayloadDump,
  PrivacyLedgerError,
} from '@squeezegate/edge';
import { type Detector, getDetectorSpec, PrivacySchema, type RawImage } from '@squeezegate/shared';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
const PNG = Buffer.from('\x89PNG\r\n\x1a\n....', 'latin1');
const WEBP = Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1');

const entry = {
  at: '2026-01-01T00:00:00.000Z',
  frameId: 'cam:0',
  payloadId: 'cam:0',
  kind: 'original' as const,
  bytes: JPEG.length,
  reason: 'policy always',
  redactions: { faces: 0, faceMode: 'off' as const, masks: 0, metadata: 'kept' as const },
};

const readIndex = async (dir: string) =>
  (await readFile(path.join(dir, DUMP_INDEX), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => DumpEntrySchema.parse(JSON.parse(l)));

describe('payload dump files', () => {
  it('names a payload after its source frame, its number and its format', () => {
    expect([
      extensionOf(JPEG),
      extensionOf(PNG),
      extensionOf(WEBP),
      extensionOf(Buffer.from('GIF8')),
    ]).toEqual(['jpg', 'png', 'webp', 'bin']);
    expect(dumpFileName('faces_01.jpg', 0, JPEG)).toBe('faces_01.0.jpg');
    expect(dumpFileName('kitti_000001.png', 3, JPEG)).toBe('kitti_000001.3.jpg');
    // A video frame's name has no extension; unsafe characters do not reach the file system.
    expect(dumpFileName('cam 1-4100', 0, PNG)).toBe('cam_1-4100.0.png');
    expect(dumpFileName('../../etc/passwd', 0, JPEG)).toBe('passwd.0.jpg');
    expect(dumpFileName('faces_01.jpg', 0, JPEG, 2)).toBe('faces_01~2.0.jpg');
  });

  it('writes every payload byte for byte with one index line each, and never overwrites within a run', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'sg-dump-')), 'nested');
    const dump = await openPayloadDump(dir);
    const region = { left: 0, top: 0, width: 640, height: 480 };
    dump.write(entry, { bytes: JPEG, source: 'a.jpg', index: 0, region });
    dump.write(
      { ...entry, payloadId: 'cam:0#o1', kind: 'object' },
      { bytes: PNG, source: 'a.jpg', index: 1, region },
    );
    dump.write(entry, { bytes: WEBP, source: 'a.jpg', index: 0, region });
    await dump.close();
    await dump.close();
    expect(dump.written).toBe(3);
    expect((await readdir(dir)).sort()).toEqual(['a.0.jpg', 'a.1.png', 'a~1.0.webp', DUMP_INDEX]);
    expect(await readFile(path.join(dir, 'a.0.jpg'))).toEqual(JPEG);
    expect(await readFile(path.join(dir, 'a~1.0.webp'))).toEqual(WEBP);
    const lines = await readIndex(dir);
    expect(lines.map((l) => [l.file, l.source, l.index, l.kind])).toEqual([
      ['a.0.jpg', 'a.jpg', 0, 'original'],
      ['a.1.png', 'a.jpg', 1, 'object'],
      ['a~1.0.webp', 'a.jpg', 0, 'original'],
    ]);
    expect(lines[0]!.region).toEqual(region);
  });

  it('appends to the index of an earlier run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-dump-'));
    for (const source of ['x.jpg', 'y.jpg']) {
      const dump = await openPayloadDump(dir);
      dump.write(entry, { bytes: JPEG, source, index: 0, region: { left: 0, top: 0, width: 1, height: 1 } });
      await dump.close();
    }
    expect((await readIndex(dir)).map((l) => l.file)).toEqual(['x.0.jpg', 'y.0.jpg']);
  });
});

/** Finds one face in the middle quarter of whatever it is shown. */
const oneFace: Detector = {
  spec: getDetectorSpec('ultraface-rfb320')!,
  labels: ['face'],
  async detect(image: RawImage) {
    const box = [image.width * 0.25, image.height * 0.25, image.width * 0.5, image.height * 0.5] as const;
    return {
      detections: [{ box, classIndex: 0, label: 'face', score: 0.9 }],
      inferMs: 0,
      preMs: 0,
      tiles: 1,
      spared: [{}],
    };
  },
  async close() {},
  async [Symbol.asyncDispose]() {},
};

describe('the privacy guard with privacy.payloadDump', () => {
  const image: RawImage = { pixels: Buffer.alloc(120 * 80 * 3, 128), width: 120, height: 80 };
  const cut = { region: { left: 20, top: 10, width: 60, height: 40 }, width: 120, height: 80 };

  it('dumps what it recorded as sent, with the cut and the faces it obscured', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-guard-dump-'));
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ payloadDump: dir, facePadding: 0 }),
      faceDetector: oneFace,
    });
    const out = await guard.render(image, { faces: [], scanMs: 0 }, cut, 80);
    if (out.kind !== 'payload') throw new Error('unreachable');
    const ledger = {
      frameId: 'cam:7',
      payloadId: 'cam:7',
      payload: 'crop' as const,
      bytes: out.bytes.length,
      reason: 'unsure',
      redactions: out.redactions,
    };
    guard.record(ledger, { bytes: out.bytes, source: 'street.jpg', index: 0, region: cut.region });
    // Recorded without the payload (a caller that does not dump): a ledger entry only.
    guard.record({ ...ledger, frameId: 'cam:8' });
    await guard.close();
    expect(guard.recorded).toBe(2);
    const [line, ...rest] = await readIndex(dir);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      file: 'street.0.jpg',
      frameId: 'cam:7',
      kind: 'crop',
      source: 'street.jpg',
      region: cut.region,
      bytes: out.bytes.length,
      redactions: {
        faces: 1,
        faceMode: 'pixelate',
        faceModel: 'yunet-s+ultraface-rfb320',
        boxes: [[30, 20, 60, 40]],
        spared: 1,
      },
    });
    expect(await readFile(path.join(dir, 'street.0.jpg'))).toEqual(out.bytes);
    expect((await sharp(out.bytes).metadata()).width).toBe(120);
  });

  it('refuses to start when the dump folder cannot be made', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'sg-guard-dump-')), 'a-file');
    await writeFile(file, 'x');
    await expect(
      createPrivacyGuard({
        config: PrivacySchema.parse({ faces: 'off', payloadDump: file }),
        faceDetector: null,
      }),
    ).rejects.toBeInstanceOf(PrivacyLedgerError);
  });
});
