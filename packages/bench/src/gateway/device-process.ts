// The simulated edge devices of bench:gateway, in a process of their own (forked by load.ts), so
// that their sockets and encoding do not run on the gateway's event loop. Each device says hello,
// then sends its frames either closed-loop (a window in flight, the next as an answer comes back)
// or paced (one every `intervalMs`, whatever the answers do), and the process reports every
// frame's latency, send to answer. It imports nothing of the workspace: the envelopes come encoded.
import WebSocket from 'ws';

/** What load.ts sends the process (advanced serialization: Buffers arrive as Uint8Arrays). */
export interface DeviceJob {
  url: string;
  devices: { id: string; token: string }[];
  /** Per device, its frames' envelopes, frame ids `${deviceId}:${k}` for the k-th. */
  envelopes: Uint8Array[][];
  mode: { kind: 'closed'; window: number } | { kind: 'paced'; intervalMs: number };
}

export type FromDevices =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | {
      type: 'done';
      latencies: number[];
      /** Per result, the gateway's own account: queued in the batcher + the backend's run (decode included). */
      inside: number[];
      busy: number;
      errors: number;
      sent: number;
      elapsedMs: number;
    };

const send = (m: FromDevices) => process.send?.(m);

function device(job: DeviceJob, index: number, go: Promise<void>) {
  const { id, token } = job.devices[index]!;
  const envelopes = job.envelopes[index]!;
  const n = envelopes.length;
  const sentAt = new Float64Array(n);
  const latencies: number[] = [];
  const inside: number[] = [];
  let busy = 0;
  let errors = 0;
  let next = 0;
  const ws = new WebSocket(job.url, { maxPayload: 1 << 20 });
  const sendNext = () => {
    if (next >= n) return;
    const k = next++;
    sentAt[k] = performance.now();
    ws.send(envelopes[k]!, { binary: true });
  };
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, deviceId: id, token, agent: 'bench' })),
    );
    const finished = new Promise<Omit<Extract<FromDevices, { type: 'done' }>, 'type' | 'elapsedMs'>>(
      (done, fail) => {
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as {
            type: string;
            frameId?: string;
            code?: string;
            message?: string;
            queueMs?: number;
            inferMs?: number;
          };
          if (msg.type === 'welcome') return resolve();
          if (msg.frameId === undefined) {
            const err = new Error(`${id}: ${msg.code}: ${msg.message}`);
            reject(err);
            return fail(err);
          }
          const k = Number(msg.frameId.slice(msg.frameId.lastIndexOf(':') + 1));
          latencies.push(performance.now() - sentAt[k]!);
          if (msg.type === 'result') inside.push((msg.queueMs ?? 0) + (msg.inferMs ?? 0));
          if (msg.type === 'error') {
            if (msg.code === 'BUSY') busy++;
            else errors++;
          }
          if (latencies.length === n) {
            ws.close();
            done({ latencies, inside, busy, errors, sent: n });
          } else if (job.mode.kind === 'closed') sendNext();
        });
      },
    );
    void go.then(() => {
      const mode = job.mode;
      if (mode.kind === 'closed') {
        for (let i = 0; i < mode.window; i++) sendNext();
        return;
      }
      // Paced: the devices' schedules are staggered over one interval; a late timer catches up.
      const start = performance.now() + (mode.intervalMs * index) / job.devices.length;
      const tick = () => {
        while (next < n && performance.now() >= start + next * mode.intervalMs) sendNext();
        if (next < n) setTimeout(tick, Math.max(0, start + next * mode.intervalMs - performance.now()));
      };
      tick();
    });
    finished.catch(() => {}); // reported through `welcomed` or Promise.all(results)
    results.push(finished);
  });
  return welcomed;
}

const results: Promise<Omit<Extract<FromDevices, { type: 'done' }>, 'type' | 'elapsedMs'>>[] = [];

process.once('message', async (job: DeviceJob) => {
  let open = () => {};
  const go = new Promise<void>((r) => {
    open = r;
  });
  try {
    await Promise.all(job.devices.map((_, i) => device(job, i, go)));
    send({ type: 'ready' });
    await new Promise<void>((r) => process.once('message', () => r()));
    const started = performance.now();
    open();
    const reports = await Promise.all(results);
    send({
      type: 'done',
      latencies: reports.flatMap((r) => r.latencies),
      inside: reports.flatMap((r) => r.inside),
      busy: reports.reduce((s, r) => s + r.busy, 0),
      errors: reports.reduce((s, r) => s + r.errors, 0),
      sent: reports.reduce((s, r) => s + r.sent, 0),
      elapsedMs: performance.now() - started,
    });
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
  process.disconnect?.();
});
