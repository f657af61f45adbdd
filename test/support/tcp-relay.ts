// A TCP relay on loopback that a test puts between a client and a server (a gateway, Redis) to
// decide when the link is up, instead of depending on how fast a server starts or stops.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  readonly port: number;
  /** New connections go to `port` on 127.0.0.1, or are refused (null); open ones are kept. */
  to(port: number | null): void;
  /** A network partition: every open connection dropped and new ones refused, until restore(). */
  cut(): void;
  /** Forwards again to where it forwarded before cut(). */
  restore(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A relay forwarding to `target` (127.0.0.1), or refusing everything until `to()` names one. */
export async function createTcpRelay(target: number | null = null, host = '127.0.0.1'): Promise<TcpRelay> {
  let forward = target;
  let beforeCut: number | null = null;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    client.on('error', () => {});
    if (forward === null) return void client.destroy();
    const upstream = connect(forward, host);
    upstream.on('error', () => {});
    open.add(client);
    open.add(upstream);
    const end = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const s of open) s.destroy();
  };
  const relay: TcpRelay = {
    port,
    to(p) {
      forward = p;
    },
    cut() {
      beforeCut = forward ?? beforeCut;
      forward = null;
      dropAll();
    },
    restore() {
      forward = beforeCut;
    },
    async close() {
      dropAll();
      server.close();
      await once(server, 'close');
    },
    [Symbol.asyncDispose]() {
      return relay.close();
    },
  };
  return relay;
}
