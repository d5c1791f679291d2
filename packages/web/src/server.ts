// Serves the app over HTTP with Node's server (through @hono/node-server); resolves once it listens.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface WebServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export function startWebServer(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  options: { port?: number; host?: string } = {},
): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, (info: AddressInfo) => {
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        port: info.port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once('error', reject);
  });
}
