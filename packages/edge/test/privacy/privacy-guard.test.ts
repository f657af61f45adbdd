import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrivacyGuard, PrivacyLedgerError } from '@squeezegate/edge';
import { PrivacySchema, type RawImage } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { fakeFaces } from '../../../../test/support/fake-faces.ts';

const image: RawImage = { pixels: Buffer.alloc(120 * 80 * 3, 128), width: 120, height: 80 };
const cut = { region: { left: 0, top: 0, width: 120, height: 80 }, width: 120, height: 80 };

describe('privacy guard', () => {
  it('blur: searches each payload at its own scale, padded, and reports what it obscured', async () => {
    const faces = fakeFaces();
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: 'blur', facePadding: 0.5 }),
      faceDetector: faces,
    });
    expect(guard.active).toBe(true);
    // Only withhold needs the frame-wide search.
    const scan = await guard.scan(image);
    expect(scan.faces).toEqual([]);
    expect(faces.calls).toBe(0);
    const out = await guard.render(image, scan, cut, 80);
    expect(out.kind).toBe('payload');
    if (out.kind === 'payload') {
      expect(out.redactions).toEqual({ faces: 1, faceMode: 'blur', masks: 0, metadata: 'stripped' });
    }
    expect(faces.calls).toBe(1);
  });

  it('withhold: a frame with a face sends nothing', async () => {
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: 'withhold' }),
      faceDetector: fakeFaces(),
    });
    const scan = await guard.scan(image);
    // The face at (30, 20)–(60, 40), padded by the default 20 % of its size.
    expect(scan.faces).toEqual([[24, 16, 66, 44]]);
    const out = await guard.render(image, scan, cut, 80);
    expect(out).toEqual({ kind: 'withheld', faces: 1 });
  });

  it('off without masks is inactive and needs no detector; faces on without one is refused', async () => {
    const off = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: 'off' }),
      faceDetector: null,
    });
    expect(off.active).toBe(false);
    expect((await off.scan(image)).faces).toEqual([]);
    await expect(createPrivacyGuard({ config: PrivacySchema.parse({}), faceDetector: null })).rejects.toThrow(
      /no face detector/,
    );
  });

  it('keeps a ledger line per payload that left', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-ledger-'));
    const ledger = path.join(dir, 'ledger.jsonl');
    const guard = await createPrivacyGuard({
      config: PrivacySchema.parse({ faces: 'off', ledger }),
      faceDetector: null,
    });
    const redactions = { faces: 0, faceMode: 'off' as const, masks: 0, metadata: 'stripped' as const };
    guard.record({
      frameId: 'cam:1',
      payloadId: 'cam:1',
      payload: 'crop',
      bytes: 1234,
      reason: 'r',
      redactions,
    });
    guard.record({
      frameId: 'cam:2',
      payloadId: 'cam:2#o0',
      payload: 'object',
      bytes: 99,
      reason: 'r',
      redactions,
    });
    await guard.close();
    const lines = (await readFile(ledger, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(guard.recorded).toBe(2);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ frameId: 'cam:2', payloadId: 'cam:2#o0', payload: 'object', bytes: 99 });
    expect(Date.parse(lines[0].at)).not.toBeNaN();
  });

  it('a ledger that cannot be opened is a named error', async () => {
    const config = PrivacySchema.parse({ faces: 'off', ledger: '/nonexistent-dir/ledger.jsonl' });
    await expect(createPrivacyGuard({ config, faceDetector: null })).rejects.toBeInstanceOf(
      PrivacyLedgerError,
    );
  });
});
