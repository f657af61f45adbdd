// One simulated edge device for the gateway load bench, in its own worker thread. Plain
// JavaScript so it starts without a TypeScript loader. It says hello, then keeps `window`
// frames in flight (the next goes as soon as an answer comes back) until every pre-encoded
// envelope has its answer, and reports the latencies.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

const { url, deviceId, token, envelopes, frameIds, window } = workerData;
const sentAt = new Map();
const latencies = [];
let busy = 0;
let errors = 0;
let next = 0;
let answered = 0;

const ws = new WebSocket(url, { maxPayload: 1 << 20 });
const sendNext = () => {
  if (next >= envelopes.length) return;
  const i = next++;
  sentAt.set(frameIds[i], performance.now());
  ws.send(Buffer.from(envelopes[i]), { binary: true });
};
ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, deviceId, token, agent: 'bench' })));
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.type === 'welcome') {
    parentPort.postMessage({ type: 'started' });
    for (let i = 0; i < window; i++) sendNext();
    return;
  }
  if (msg.frameId === undefined) {
    parentPort.postMessage({ type: 'failed', message: `${msg.code}: ${msg.message}` });
    ws.close();
    return;
  }
  latencies.push(performance.now() - sentAt.get(msg.frameId));
  if (msg.type === 'error') {
    if (msg.code === 'BUSY') busy++;
    else errors++;
  }
  answered++;
  if (answered === envelopes.length) {
    parentPort.postMessage({ type: 'done', latencies, busy, errors, sent: envelopes.length });
    ws.close();
  } else sendNext();
});
ws.on('error', (err) => parentPort.postMessage({ type: 'failed', message: err.message }));
