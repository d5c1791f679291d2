// Serves the app over HTTP with Node's server (through @hono/node-server); resolves once it listens.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';

/** How long an idle keep-alive connection stays open (default of `startWebServer`). */
export const DEFAULT_KEEP_ALIVE_MS = 65_000;

export interface WebServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves a fetch-style app, or a Node request listener (the model server's), on a port. */
export function startWebServer(
  app: { fetch: (request: Request) => Response | Promise<Response> } | RequestListener,
  options: { port?: number; host?: string; keepAliveTimeoutMs?: number } = {},
): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(typeof app === 'function' ? app : getRequestListener(app.fetch, { hostname: host }));
  // Idle keep-alive connections stay open 65 s (Node's default is 5 s): longer than the 60 s idle timeout
  // of the common load balancers, so a balancer or client never sends on a connection the server has
  // just closed (the request would be lost or answered 502). close() still closes idle ones at once.
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS;
  server.headersTimeout = server.keepAliveTimeout + 1_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      const info = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        port: info.port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
