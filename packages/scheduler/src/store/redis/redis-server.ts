// Private redis-server processes (the CLI's demo, tests and benchmarks): never the shared
// 127.0.0.1:6379. Each server gets a free port and its own directory, so a test can kill and restart
// it. Not part of the main entry: it is the subpath export `@batuta/scheduler/redis-server`, because
// the published CLI starts one at run time and tests import it through @batuta/testing
// (docs/adr/009-test-support.md).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatutaError } from '../../errors.js';

/** A free TCP port on 127.0.0.1 (asked of the OS). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function answersPing(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    // With a password, AUTH first: the server answers PING with NOAUTH otherwise. Inline commands are
    // space-separated, so the password may not contain spaces (tests choose their own).
    socket.connect(port, '127.0.0.1', () =>
      socket.write(`${password === undefined ? '' : `AUTH ${password}\r\n`}PING\r\n`),
    );
    let replies = '';
    socket.on('data', (data) => {
      replies += data.toString();
      if (replies.includes('+PONG')) done(true);
      else if (replies.includes('-')) done(false);
    });
  });
}

export interface RedisServerOptions {
  /** Append-only file on (for restart-survival tests). Default false. */
  appendOnly?: boolean;
  /**
   * Also listen with TLS on a second free port (`tlsUrl`), with these PEM files; `authClients` makes the
   * server demand a client certificate signed by the CA. The plain port stays for readiness checks.
   */
  tls?: { certFile: string; keyFile: string; caFile: string; authClients?: boolean };
  /** A password clients must give (`--requirepass`); `url` then carries it. No spaces. */
  password?: string;
  /** Extra `--flag value` pairs. */
  args?: string[];
}

/** A private redis-server on a free port; `stop()` removes its data, `kill()`/`restart()` simulate crashes. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  /** The TLS port, when started with `tls`. */
  tlsPort: number | undefined;
  private child: ChildProcess | undefined;
  private readonly options: RedisServerOptions;

  private constructor(port: number, dir: string, options: RedisServerOptions) {
    this.port = port;
    this.dir = dir;
    this.options = options;
  }

  /** Starts a server and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'batuta-redis-')), options);
    if (options.tls) server.tlsPort = await freePort();
    await server.launch();
    return server;
  }

  get url(): string {
    const auth = this.options.password === undefined ? '' : `:${encodeURIComponent(this.options.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  /** `rediss://127.0.0.1:<tls port>` (with the password, if any); only when started with `tls`. */
  get tlsUrl(): string {
    if (this.tlsPort === undefined) throw new Error('this redis-server was started without tls');
    return this.url.replace(/^redis:/, 'rediss:').replace(`:${this.port}`, `:${this.tlsPort}`);
  }

  private async launch(): Promise<void> {
    const tls = this.options.tls;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      ...(this.options.password === undefined ? [] : ['--requirepass', this.options.password]),
      ...(tls && this.tlsPort !== undefined
        ? [
            '--tls-port',
            String(this.tlsPort),
            '--tls-cert-file',
            tls.certFile,
            '--tls-key-file',
            tls.keyFile,
            '--tls-ca-cert-file',
            tls.caFile,
            '--tls-auth-clients',
            tls.authClients ? 'yes' : 'no',
          ]
        : []),
      ...(this.options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let failure: Error | undefined;
    child.once('error', (error) => {
      failure = new BatutaError(
        'REDIS_SERVER_FAILED',
        `could not start redis-server (is it installed and on PATH?): ${error.message}`,
      );
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (failure) throw failure;
      if (child.exitCode !== null)
        throw new BatutaError(
          'REDIS_SERVER_FAILED',
          `redis-server exited with code ${child.exitCode} on port ${this.port}`,
        );
      if (await answersPing(this.port, this.options.password)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new BatutaError('REDIS_SERVER_FAILED', `redis-server on port ${this.port} did not answer within 10 s`);
  }

  /** SIGKILLs the server (data not yet written is lost unless appendOnly). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the server again on the same port and directory. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
