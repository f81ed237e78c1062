/**
 * Puts an app on a port with @hono/node-server, and takes it down again (open event streams
 * included).
 */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { IqueryError, messageOf } from '../errors.js';

export interface RunningServer {
  host: string;
  /** The port listened on (the one chosen when 0 was asked for). */
  port: number;
  /** `http://host:port`, IPv6 hosts in brackets, no trailing slash. */
  url: string;
  /** Stops accepting connections and cuts the open ones (event streams would otherwise hold it). */
  close(): Promise<void>;
}

/** Listens on host:port (0: any free port). Throws `usage` when the port is taken or the host is not this machine's. */
export async function startServer(app: Hono, options: { host: string; port: number }): Promise<RunningServer> {
  const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const taken = error.code === 'EADDRINUSE';
      reject(
        new IqueryError('usage', taken ? `Port ${options.port} on ${options.host} is in use.` : `Cannot listen on ${options.host}:${options.port}: ${messageOf(error)}`, {
          hint: taken ? 'Stop the other server, or give another --port (0 picks a free one).' : 'Give --host 127.0.0.1, 0.0.0.0 or an address of this machine.',
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
