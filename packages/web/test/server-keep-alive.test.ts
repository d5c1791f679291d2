// startWebServer's keep-alive: idle connections are kept (65 s by default, longer than load balancers'
// idle timeouts) for as long as configured and then closed by the server, and close() does not wait for
// an idle keep-alive connection (a shutdown would otherwise hang for the whole keep-alive time).
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startWebServer } from '../src/server.js';

const hello = (_request: unknown, response: { end: (text: string) => void }) => response.end('hi');

/** Opens a connection, sends one keep-alive request and resolves once the answer has arrived. */
async function keptAlive(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n');
  await answered;
  return { socket, closed };
}

describe('startWebServer keep-alive', () => {
  it('closes an idle connection after the configured keep-alive time', async () => {
    const server = await startWebServer(hello as never, { port: 0, keepAliveTimeoutMs: 100 });
    const { closed } = await keptAlive(server.port);
    await closed; // by the server: the test would time out otherwise
    await server.close();
  });

  it('closes at once with an idle keep-alive connection open (default keep-alive)', async () => {
    const server = await startWebServer(hello as never, { port: 0 });
    const { socket, closed } = await keptAlive(server.port);
    expect(socket.destroyed).toBe(false);
    await server.close();
    await closed;
  });
});
