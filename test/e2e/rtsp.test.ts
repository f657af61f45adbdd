// A real RTSP camera (Debian's rtsp-server-perl, fed by ffmpeg looping a sample clip) read by
// squeezegate-edge through a real gateway. The camera goes off the network mid-stream and comes
// back: the agent reconnects, records the gap, and every frame it decoded has one final result.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FrameRecord, packagedFfmpegPath } from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import { type CameraStats, GatewayConfigSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { userEnv } from '../support/cli.ts';
import { datasetDir, haveRealModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';
import { createRtspCamera, rtspServerPath } from '../support/rtsp-camera.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');
const CLIP = path.resolve(path.dirname(datasetDir), 'video-sample', 'car-detection.mp4');
const ready = rtspServerPath !== null && existsSync(CLIP);
if (!ready && process.env.CI)
  throw new Error('the RTSP test needs rtsp-server-perl (apt) and the sample clips');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const records = async (file: string): Promise<FrameRecord[]> =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as FrameRecord);
async function until(what: string, check: () => Promise<boolean>, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe.skipIf(!haveRealModels || !ready)('squeezegate-edge on a real RTSP camera', () => {
  it('reconnects after the camera drops, records the gap, and gives every decoded frame one result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-rtsp-'));
    const out = path.join(dir, 'out.jsonl');
    await using camera = await createRtspCamera({ clip: CLIP, ffmpeg: packagedFfmpegPath()! });
    await camera.start();
    await using gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'gate-cam', token: 'rtsp-token-1' }],
      }),
      logger: testLogger,
    });
    const agent: ChildProcess = spawn(
      process.execPath,
      [
        EDGE,
        ...['--source', camera.url, '--rtsp-transport', 'udp', '--fps', '5'],
        ...['--gateway', gateway.edgeUrl, '--device-id', 'gate-cam', '--token', 'rtsp-token-1'],
        ...['--out', out, '--log-level', 'info'],
      ],
      { cwd: repoRoot, env: userEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    agent.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    try {
      await until('frames from the camera', async () => (await records(out)).length >= 10);
      await camera.stop();
      const atStop = (await records(out)).length;
      await sleep(3000);
      await camera.start();
      await until(
        'frames after the camera came back',
        async () => (await records(out)).length >= atStop + 10,
      );
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nagent: ${stderr.slice(-3000)}\ncamera: ${camera.logs().join('\n')}`,
      );
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited, stderr.slice(-2000)).toBe(0);

    const all = await records(out);
    const finished = stderr
      .split('\n')
      .filter((l) => l.includes('"run finished"'))
      .map((l) => JSON.parse(l) as { cameras: CameraStats[] })[0];
    const stats = finished?.cameras[0];
    expect(stats, 'the closing log line carries the camera counts').toBeDefined();
    // Every frame decoded (analysed or dropped) has exactly one record.
    expect(all).toHaveLength(stats!.decoded);
    expect(new Set(all.map((r) => r.frameId)).size).toBe(all.length);
    expect(stats!.analysed + stats!.dropped).toBe(stats!.decoded);
    // The outage: a restart and a gap of at least the time the camera was off.
    expect(stats!.restarts).toBeGreaterThanOrEqual(1);
    expect(stats!.gapMs).toBeGreaterThanOrEqual(2000);
    // Frames went through a real gateway, and every one that was decided has its answer.
    expect(all.some((r) => r.cloud?.status === 'ok')).toBe(true);
    for (const r of all.filter((x) => x.decision.kind !== 'dropped')) expect(r.final).not.toBeNull();
  });
});
