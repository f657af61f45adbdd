import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AuditError,
  auditDump,
  DUMP_INDEX,
  type DumpEntry,
  defaultAuditorIds,
  formatAudit,
  notFaces,
  parseAuditArgs,
  summarizeAudit,
  taskOf,
} from '@squeezegate/edge';
import { type Detector, getDetectorSpec, type RawImage } from '@squeezegate/shared';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * A stand-in auditor: a "face" is a checkerboard of black and white cells, found as the bounding
 * box of its pure black and white pixels. Pixelation averages it to gray, so a redacted face is
 * no longer found; an untouched one is.
 */
function checkerAuditor(id: string): Detector {
  return {
    spec: getDetectorSpec(id)!,
    labels: ['face'],
    async detect(image: RawImage) {
      let box: [number, number, number, number] | null = null;
      for (let y = 0; y < image.height; y++)
        for (let x = 0; x < image.width; x++) {
          const v = image.pixels[(y * image.width + x) * 3]!;
          if (v > 5 && v < 250) continue;
          box = box
            ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)]
            : [x, y, x + 1, y + 1];
        }
      return {
        detections: box ? [{ box, classIndex: 0, label: 'face', score: 0.9 }] : [],
        inferMs: 0,
        preMs: 0,
        tiles: 1,
      };
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
}

/** 128×96 gray, a 32×32 checkerboard "face" at (48, 32). */
function frame(flattened = false): RawImage {
  const width = 128;
  const height = 96;
  const pixels = Buffer.alloc(width * height * 3, 128);
  for (let y = 32; y < 64; y++)
    for (let x = 48; x < 80; x++) {
      const v = flattened ? 128 : ((x >> 2) + (y >> 2)) % 2 === 0 ? 0 : 255;
      pixels.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  return { pixels, width, height };
}

const png = (
  image: RawImage,
  resize?: { left: number; top: number; width: number; height: number; to: number },
) => {
  let s = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (resize) s = s.extract(resize).resize(resize.to, resize.to, { kernel: 'nearest' });
  return s.png().toBuffer();
};

const base = {
  at: '2026-01-01T00:00:00.000Z',
  reason: 'test',
  redactions: { faces: 1, faceMode: 'pixelate', masks: 0, metadata: 'stripped', faceModel: 'yunet-s' },
} as const;

let dump: string;
let source: string;
beforeAll(async () => {
  source = await mkdtemp(path.join(tmpdir(), 'sg-audit-src-'));
  dump = await mkdtemp(path.join(tmpdir(), 'sg-audit-dump-'));
  await writeFile(path.join(source, 'f1.png'), await png(frame()));
  const whole = { left: 0, top: 0, width: 128, height: 96 };
  const entries: (Omit<DumpEntry, 'bytes'> & { payload: Buffer })[] = [
    // Redacted: the face flattened.
    {
      ...base,
      file: 'f1.0.png',
      frameId: 'c:1',
      payloadId: 'c:1',
      kind: 'original',
      source: 'f1.png',
      index: 0,
      region: whole,
      payload: await png(frame(true)),
    },
    // Not redacted: the face leaks. A detect payload (its id has a "#").
    {
      ...base,
      file: 'f1.1.png',
      frameId: 'c:1',
      payloadId: 'c:1#frame',
      kind: 'frame',
      source: 'f1.png',
      index: 1,
      region: whole,
      payload: await png(frame()),
    },
    // A crop of the face's region, enlarged 3×: the leak is about 96 px wide in the payload.
    {
      ...base,
      file: 'f1.2.png',
      frameId: 'c:1',
      payloadId: 'c:1#o0',
      kind: 'object',
      source: 'f1.png',
      index: 2,
      region: { left: 40, top: 24, width: 48, height: 48 },
      payload: await png(frame(), { left: 40, top: 24, width: 48, height: 48, to: 144 }),
    },
    // Its source is missing.
    {
      ...base,
      file: 'gone.0.png',
      frameId: 'c:2',
      payloadId: 'c:2',
      kind: 'crop',
      source: 'gone.png',
      index: 0,
      region: whole,
      payload: await png(frame(true)),
    },
  ];
  const lines: string[] = [];
  for (const { payload, ...e } of entries) {
    await writeFile(path.join(dump, e.file), payload);
    lines.push(JSON.stringify({ ...e, bytes: payload.length }));
  }
  await writeFile(path.join(dump, DUMP_INDEX), `${lines.join('\n')}\n`);
});

describe('auditDump', () => {
  it('finds the leaks, per payload, in payload and source pixels', async () => {
    const auditors = [{ detector: checkerAuditor('ultraface-rfb640'), threshold: 0.6 }];
    const { payloads, unaudited } = await auditDump({ dumpDir: dump, sourceDir: source, auditors });
    expect(unaudited).toEqual([
      { file: 'gone.0.png', reason: expect.stringMatching(/no source frame gone\.png/) },
    ]);
    expect(payloads.map((p) => [p.entry.file, p.task, p.faces.length, p.leaks.length])).toEqual([
      ['f1.0.png', 'classify', 1, 0],
      ['f1.1.png', 'detect', 1, 1],
      ['f1.2.png', 'detect', 1, 1],
    ]);
    const crop = payloads[2]!.leaks[0]!;
    // Resampling may move an edge by a pixel.
    const near = (actual: readonly number[], expected: number[], px: number) =>
      actual.forEach((v, i) => {
        expect(Math.abs(v - expected[i]!), `${actual} ≈ ${expected}`).toBeLessThanOrEqual(px);
      });
    near(crop.box, [24, 24, 120, 120], 2);
    near(crop.sourceBox, [48, 32, 80, 64], 1);

    const report = summarizeAudit(payloads, {
      dump,
      source,
      auditors: [{ id: 'ultraface-rfb640', threshold: 0.6 }],
      minIou: 0.3,
      unaudited,
    });
    expect(report.total).toMatchObject({ faces: 3, leaked: 2, large: { faces: 3, leaked: 2 } });
    expect(Object.keys(report.byKind).sort()).toEqual(['classify/original', 'detect/frame', 'detect/object']);
    expect(report.byKind['detect/object']!.bins.map((b) => b.leaked)).toEqual([0, 0, 0, 1]);
    expect(report.targets.met).toBe(false);
    // Leak-free payloads alone, with one unaudited: not proven.
    const clean = summarizeAudit(payloads.slice(0, 1), { ...report, unaudited });
    expect(clean.total.leaked).toBe(0);
    expect(clean.targets.met).toBe(false);
    expect(formatAudit(clean)).toMatch(/NOT PROVEN/);
    const text = formatAudit(report);
    expect(text).toMatch(/NOT MET/);
    expect(text).toMatch(/f1\.2\.png 9\d px at \d+,\d+,\d+,\d+ \(source 4[78],3[12],80,64\)/);
  });

  it('leaves reviewed non-faces out, and says so', async () => {
    const auditors = [{ detector: checkerAuditor('ultraface-rfb640'), threshold: 0.6 }];
    const list = notFaces([{ source: 'f*.png', box: [48, 32, 80, 64], note: 'a checkerboard' }]);
    const { payloads } = await auditDump({ dumpDir: dump, sourceDir: source, auditors, notFaces: list });
    expect(payloads.map((p) => [p.faces.length, p.excluded])).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it('reports an index it cannot read, with the line', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'sg-audit-bad-'));
    await expect(auditDump({ dumpDir: bad, sourceDir: source, auditors: [] })).rejects.toBeInstanceOf(
      AuditError,
    );
    await writeFile(path.join(bad, DUMP_INDEX), '{"file": "x"}\n');
    await expect(auditDump({ dumpDir: bad, sourceDir: source, auditors: [] })).rejects.toThrow(/line 1: /);
  });
});

describe('audit defaults', () => {
  const entry = (faceModel?: string, payloadId = 'c:1', kind: DumpEntry['kind'] = 'crop') =>
    ({ payloadId, kind, redactions: { ...(faceModel ? { faceModel } : {}) } }) as DumpEntry;

  it('audits with every face model the redaction did not use', () => {
    expect(defaultAuditorIds([entry('yunet-s+ultraface-rfb320')])).toEqual(['ultraface-rfb640']);
    expect(defaultAuditorIds([entry('ultraface-rfb320')])).toEqual(['ultraface-rfb640', 'yunet-s']);
    expect(defaultAuditorIds([entry()])).toEqual(['ultraface-rfb320', 'ultraface-rfb640', 'yunet-s']);
    expect(defaultAuditorIds([entry('ultraface-rfb320'), entry('yunet-s')])).toEqual(['ultraface-rfb640']);
  });

  it("tells the detect task's payloads from the classify task's", () => {
    expect(taskOf(entry(undefined, 'c:1', 'frame'))).toBe('classify');
    expect(taskOf(entry(undefined, 'c:1#frame', 'frame'))).toBe('detect');
    expect(taskOf(entry(undefined, 'c:1#o2', 'object'))).toBe('detect');
  });

  it('parses the command line', () => {
    expect(parseAuditArgs(['--help'], {})).toEqual({ ok: 'help' });
    const missing = parseAuditArgs([], {});
    expect(missing.ok === false && missing.issues).toEqual([
      '--dump <dir> is required',
      '--source <dir> is required',
    ]);
    const bad = parseAuditArgs(
      ['--dump', 'd', '--source', 's', '--auditors', 'yolox-nano-416', '--threshold', '2'],
      {},
    );
    expect(bad.ok === false && bad.issues).toEqual([
      '--auditors: unknown face model "yolox-nano-416"',
      '--threshold must be in [0, 1], got "2"',
    ]);
    const ok = parseAuditArgs(['--dump', 'd', '--source', 's', '--auditors', 'yunet-s, ultraface-rfb640'], {
      SQUEEZEGATE_MODELS_DIR: '/m',
    });
    expect(ok).toMatchObject({
      ok: true,
      cli: {
        dump: 'd',
        source: 's',
        auditors: ['yunet-s', 'ultraface-rfb640'],
        threshold: 0.6,
        iou: 0.3,
        modelsDir: '/m',
      },
    });
  });
});
