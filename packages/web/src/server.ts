// Serves the app over HTTP with Node's server (through @hono/node-server); resolves once it listens.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';

export interface WebServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves a fetch-style app, or a Node request listener (the model server's), on a port. */
export function startWebServer(
  app: { fetch: (request: Request) => Response | Promise<Response> } | RequestListener,
  options: { port?: number; host?: string } = {},
): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(typeof app === 'function' ? app : getRequestListener(app.fetch, { hostname: host }));
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
