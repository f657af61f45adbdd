import { describe, expect, it } from 'vitest';
import { locateFfmpeg, packagedFfmpegPath, probeFfmpeg } from '../../src/source/ffmpeg.ts';
import { SourceError } from '../../src/source/source-error.ts';

describe('locating ffmpeg', () => {
  it('finds the packaged static ffmpeg when nothing is named, with its version and RTSP timeout option', async () => {
    const packaged = packagedFfmpegPath();
    expect(packaged).toMatch(/@ffmpeg-installer\/linux-x64\/ffmpeg$/);
    const info = await locateFfmpeg();
    expect(info).toMatchObject({ path: packaged, origin: 'package' });
    expect(info.versionLine).toMatch(/^ffmpeg version \S+/);
    expect(info.versionLine).toContain(info.version);
    // The static build is ffmpeg 4.1: -stimeout, since its -timeout means "listen".
    expect(info.rtspTimeoutOption).toBe('-stimeout');
  });

  it('prefers --ffmpeg, then SQUEEZEGATE_FFMPEG, and never swaps a named binary for another', async () => {
    const packaged = packagedFfmpegPath() ?? 'ffmpeg';
    expect(await locateFfmpeg({ env: packaged })).toMatchObject({ origin: 'env', path: packaged });
    expect(await locateFfmpeg({ explicit: packaged, env: '/nope/ffmpeg' })).toMatchObject({
      origin: 'explicit',
    });
    const missing = locateFfmpeg({ explicit: '/nope/ffmpeg', env: packaged });
    await expect(missing).rejects.toBeInstanceOf(SourceError);
    await expect(missing).rejects.toMatchObject({
      code: 'FFMPEG_MISSING',
      message: expect.stringContaining('/nope/ffmpeg'),
    });
  });

  it('refuses a binary that runs but is not ffmpeg', async () => {
    await expect(probeFfmpeg('/bin/echo', 'explicit')).rejects.toMatchObject({
      code: 'FFMPEG_MISSING',
      message: expect.stringMatching(/is not ffmpeg/),
    });
  });
});
