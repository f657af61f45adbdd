import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';

export const TlsErrorCode = {
  /** A certificate or key file could not be read. */
  TLS_FILE_UNREADABLE: 'TLS_FILE_UNREADABLE',
  /** The files were read but do not make a certificate and its key (not PEM, or not a pair). */
  TLS_INVALID: 'TLS_INVALID',
} as const;
export type TlsErrorCode = (typeof TlsErrorCode)[keyof typeof TlsErrorCode];

/** The TLS files given in the configuration are unusable; a configuration problem, not a crash. */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError';
  readonly code: TlsErrorCode;
  readonly file: string;
  constructor(code: TlsErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.file = file;
  }
}

export interface Listener {
  /** `https` and `wss` when TLS is on. */
  readonly secure: boolean;
  readonly server: Server;
  readonly port: number;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new TlsSetupError(TlsErrorCode.TLS_FILE_UNREADABLE, file, `cannot read the TLS ${what} ${file}`, {
      cause,
    });
  }
}

/** A certificate and its key, read and checked. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Reads the configured PEM files and checks they make a certificate and its key. */
export async function loadTlsMaterial(tls: { cert: string; key: string }): Promise<TlsMaterial> {
  const cert = await readPem(tls.cert, 'certificate');
  const key = await readPem(tls.key, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (cause) {
    throw new TlsSetupError(
      TlsErrorCode.TLS_INVALID,
      tls.cert,
      `the TLS certificate ${tls.cert} and key ${tls.key} are not a PEM certificate and its key: ${(cause as Error).message}`,
      { cause },
    );
  }
  return { cert, key };
}

/**
 * Serves `fetch` over HTTP, or HTTPS with `tls` (then nothing on the port speaks plain HTTP: a
 * plain client fails its handshake and is disconnected), and listens. Upgrades are the caller's.
 */
export async function listen(options: {
  fetch: (request: Request) => Response | Promise<Response>;
  tls: TlsMaterial | undefined;
  host: string;
  port: number;
  logger: Logger;
}): Promise<Listener> {
  const { tls, logger } = options;
  let server: Server;
  if (tls) {
    // node:https's Server is a tls.Server with http.Server's methods; the gateway uses only those.
    server = createAdaptorServer({
      fetch: options.fetch,
      createServer: createHttpsServer,
      serverOptions: { cert: tls.cert, key: tls.key },
    }) as unknown as Server;
    server.on('tlsClientError', (err: Error) => logger.debug({ err }, 'TLS handshake failed'));
  } else {
    server = createAdaptorServer({ fetch: options.fetch }) as Server;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { secure: tls !== undefined, server, port };
}
