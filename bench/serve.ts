// `npm run bench -- serve [--quick] [--rate N] [--no-pin] [--profile DIR]`: online predictions at a fixed offered
// load (issue #13). The real `batuta serve iris` process (the built CLI: run `npm run build` first) with
// a canary rollout active (examples/iris-batch/canary.json: v2 on its first step, a 1 % holdout), a real
// API token (scrypt-hashed, limited to the model) and request validation on; against a bare `node:http`
// handler that parses the same body and calls the same XGBoost scorer on the same row (the baseline,
// measured in the same run, alternating with ours round by round).
// Open loop: request i is due at t0 + i/rate whatever the answers do, and its latency counts from that
// due time, so a server stall shows up in the latencies of every request it delayed (no coordinated
// omission). 64 keep-alive connections, through a minimal HTTP/1.1 client (see `offer`). The server under test runs in its own process, pinned
// to CPU 0 with taskset when it exists; this process (the load generator) and redis-server share CPU 1.
// Targets: p99 ≤ 2 ms at 5,000 req/s, overhead (our p99 / bare p99) ≤ 1.3. Medians over the rounds.
// Last line: {"bench":"serve","p99Ms":…,"overhead":…,"p50Ms":…,"baseline":{…},…}.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RolloutStore, XgboostModel } from '@batuta/ml-tasks';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { AuthStore, DEFAULT_KEEP_ALIVE_MS } from '@batuta/web';
import { Redis } from 'ioredis';
import { measureSplitLookups, type SplitLookupFigures } from './support/split-lookups.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleDir = join(root, 'examples/iris-batch');
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LABELS = ['setosa', 'versicolor', 'virginica'];

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = argv.includes('--quick');
const RATE = Number(option('--rate') ?? 5_000);
const ROUNDS = quick ? 1 : 5;
const WARM_MS = quick ? 2_000 : 3_000;
const MEASURE_MS = quick ? 5_000 : 10_000;
/** How long after the window answers are still awaited; a request unanswered by then is an error. */
const DRAIN_MS = 2_000;
const SOCKETS = 64;
const TARGET_P99_MS = 2;
const TARGET_OVERHEAD = 1.3;

// ---- the baseline: a bare node:http handler around the same scorer (run as a child in this role) ----
// In the `floor` role the same server answers a constant of the same length without parsing or scoring:
// what this machine, node:http and the load generator cost before any work is done (the lowest p99 any
// Node handler could show here).
function runBare(floor: boolean): void {
  const constant = JSON.stringify({
    model: 'iris',
    predictions: [{ version: 'v1', arm: 'baseline', prediction: 'versicolor' }],
  });
  const model = XgboostModel.fromJsonText(readFileSync(join(exampleDir, 'data/model.json'), 'utf8'));
  const row = new Float64Array(FEATURES.length);
  const classes = new Int32Array(1);
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (floor) {
        response
          .writeHead(200, { 'content-type': 'application/json', 'content-length': constant.length })
          .end(constant);
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        instances: Array<{ features: Record<string, number> }>;
      };
      const features = body.instances[0]!.features;
      for (let i = 0; i < FEATURES.length; i++) row[i] = features[FEATURES[i]!]!;
      model.predictClassesInto(row, 1, classes);
      const answer = JSON.stringify({
        model: 'iris',
        predictions: [{ version: 'v1', arm: 'baseline', prediction: LABELS[classes[0]!] }],
      });
      response
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
        .end(answer);
    });
  });
  // The same keep-alive as `batuta serve` (startWebServer's default), so both sides are alike.
  server.keepAliveTimeout = DEFAULT_KEEP_ALIVE_MS;
  server.listen(0, '127.0.0.1', () => {
    console.log(
      JSON.stringify({
        event: `${floor ? 'floor' : 'bare'}_started`,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      }),
    );
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (undefined elsewhere). */
function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100 Hz).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

interface Window {
  /** Latency of every request sent in the window, from its due time to the end of its answer (ms). */
  latencies: number[];
  sent: number;
  answered: number;
  errors: number;
  /** How late this process sent requests behind their schedule (its own jitter), p99 in ms. */
  sendLateP99Ms: number;
  /** Connections the server closed during the window, each replaced (a request on one sent again). */
  reconnects: number;
  seconds: number;
  /** CPU time the server used per answer during the window (µs), when /proc tells. */
  serverCpuUsPerAnswer?: number;
  /** Share of the window this process (the load generator) was on a CPU (it shares CPU 1 with Redis). */
  generatorCpuShare: number;
  /** Share of the window redis-server was on a CPU (the figures `batuta serve` writes), when /proc tells. */
  redisCpuShare?: number;
}

const percentile = (sorted: readonly number[], fraction: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Pinning (default when taskset exists and there are two CPUs or more); `--no-pin` leaves it to the kernel. */
const hasTaskset =
  !argv.includes('--no-pin') &&
  spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0 &&
  cpus().length >= 2;

/** Pins a running process to one CPU (no-op without taskset or with a single CPU). */
function pin(pid: number, cpu: number): void {
  if (hasTaskset) spawnSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Starts a child pinned to CPU 0 and resolves with its URL once it prints its `…_started` JSON line. */
async function startPinned(
  args: string[],
  env: NodeJS.ProcessEnv,
  startedEvent: string,
): Promise<{ child: ChildProcess; url: string }> {
  const [command, ...rest] = hasTaskset
    ? ['taskset', '-c', '0', process.execPath, ...args]
    : [process.execPath, ...args];
  const child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const url = await new Promise<string>((resolvePromise, reject) => {
    let rest = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { event?: string; url?: string; level?: string };
        if (parsed.event === startedEvent) resolvePromise(String(parsed.url));
        else if (parsed.level === 'error') console.log(`  server: ${line}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`)));
  });
  return { child, url };
}

/** What a spinning probe on the servers' CPU saw: the machine taking that CPU away from a busy process. */
interface MachineStalls {
  seconds: number;
  /** Gaps of more than 1 ms (and of more than 2 ms) between two readings of the clock by a busy loop. */
  over1Ms: number;
  over2Ms: number;
  maxMs: number;
  /** Share of the probe's time lost in gaps of more than 0.2 ms. */
  lostShare: number;
}

/**
 * Spins on CPU 0 (where the servers run) for `seconds` with nothing else to do, reading the clock: every
 * gap is time the machine (its kernel threads, its hypervisor) took the CPU away. A tail no server can
 * go below; measured before the rounds, while the servers are idle.
 */
function probeMachineStalls(seconds: number): MachineStalls {
  const script = `const t0 = performance.now(), end = t0 + ${seconds * 1000}; let last = t0, lost = 0, o1 = 0, o2 = 0, max = 0;
for (;;) { const t = performance.now(), g = t - last; last = t; if (g > 0.2) { lost += g; if (g > 1) o1++; if (g > 2) o2++; if (g > max) max = g; } if (t > end) break; }
console.log(JSON.stringify({ over1Ms: o1, over2Ms: o2, maxMs: Math.round(max * 1000) / 1000, lostShare: Math.round((lost / (last - t0)) * 10000) / 10000 }));`;
  const [command, ...args] = hasTaskset
    ? ['taskset', '-c', '0', process.execPath, '-e', script]
    : [process.execPath, '-e', script];
  const result = spawnSync(command!, args, { encoding: 'utf8' });
  return { seconds, ...(JSON.parse(result.stdout) as Omit<MachineStalls, 'seconds'>) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

interface Connection {
  socket: Socket;
  buffer: Buffer;
  /** The request this connection waits the answer of (its index in the window), or undefined. */
  inFlight: number | undefined;
  /** Closed by this client (not by the server): replaced without counting as a reconnect. */
  retired?: boolean;
}

/** The state of one offered window: request i is due at `started + i * intervalMs`. */
interface OfferState {
  started: number;
  intervalMs: number;
  total: number;
  requests: readonly Buffer[];
  /** Requests below this index have been sent (they go out in order). */
  next: number;
  settled: number;
  answered: number;
  errors: number;
  latencies: Float64Array;
  sendLate: Float64Array;
  settle: () => void;
}

const CONTENT_LENGTH = [Buffer.from('content-length:'), Buffer.from('Content-Length:')];

/** The body length an answer's head declares (both spellings servers use), or -1. */
function contentLength(buffer: Buffer, headerEnd: number): number {
  for (const name of CONTENT_LENGTH) {
    const at = buffer.indexOf(name);
    if (at < 0 || at > headerEnd) continue;
    let i = at + name.length;
    while (buffer[i] === 0x20) i++;
    let length = 0;
    for (; buffer[i]! >= 0x30 && buffer[i]! <= 0x39; i++) length = length * 10 + buffer[i]! - 0x30;
    return length;
  }
  return -1;
}

/**
 * The load generator: a minimal HTTP/1.1 client over SOCKETS keep-alive connections, one request in flight
 * on each (Node's http client would cost this shared machine more CPU per request than the server under
 * test, and its delays would be charged to the server). The connections are opened once per side and
 * kept from the warm-up through the measured window, as a keep-alive client's are: opening 64 connections
 * at the start of the measured window used to put a few hundred slow answers into its first 100 ms.
 * Answers are parsed from the bytes (status, content-length) and figures kept in preallocated arrays, so
 * the generator itself makes little garbage: its pauses would be charged to the server too.
 */
class LoadClient {
  private readonly connections: Connection[] = [];
  private readonly idle: Connection[] = [];
  private state: OfferState | undefined;
  private closing = false;
  reconnects = 0;

  private constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  static async open(url: string): Promise<LoadClient> {
    const { hostname, port } = new URL(url);
    const client = new LoadClient(hostname, Number(port));
    const opened = await Promise.all(Array.from({ length: SOCKETS }, () => client.connect()));
    client.idle.push(...opened);
    return client;
  }

  // A connection the server closes (its keep-alive ran out, or it chose to) is replaced, and a request
  // that was on it is sent again on the new one, its latency still counted from its due time: what a
  // keep-alive HTTP client does.
  private connect(): Promise<Connection> {
    return new Promise<Connection>((resolvePromise, reject) => {
      const socket = connect({ host: this.host, port: this.port }, () => resolvePromise(connection));
      socket.setNoDelay(true);
      const connection: Connection = { socket, buffer: Buffer.alloc(0), inFlight: undefined };
      this.connections.push(connection);
      socket.on('data', (chunk: Buffer) => this.read(connection, chunk));
      socket.once('error', reject);
      socket.once('close', () => {
        const lost = connection.inFlight;
        connection.inFlight = undefined;
        this.connections.splice(this.connections.indexOf(connection), 1);
        const at = this.idle.indexOf(connection);
        if (at >= 0) this.idle.splice(at, 1);
        if (this.closing) return;
        if (!connection.retired) this.reconnects++;
        void this.connect().then((fresh) => {
          if (lost !== undefined && this.state) this.send(fresh, lost);
          else this.release(fresh);
        });
      });
    });
  }

  private read(connection: Connection, chunk: Buffer): void {
    connection.buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
    for (;;) {
      const buffer = connection.buffer;
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = contentLength(buffer, headerEnd);
      if (length < 0) throw new Error(`an answer without content-length: ${buffer.toString('latin1', 0, headerEnd)}`);
      const end = headerEnd + 4 + length;
      if (buffer.length < end) return;
      // "HTTP/1.1 200": the status code's digits are bytes 9 to 11.
      const ok = buffer[9] === 0x32 && buffer[10] === 0x30 && buffer[11] === 0x30;
      connection.buffer = end === buffer.length ? Buffer.alloc(0) : buffer.subarray(end);
      const index = connection.inFlight;
      if (index === undefined) throw new Error('an answer to no request');
      this.finish(index, ok);
      this.release(connection);
    }
  }

  private finish(index: number, ok: boolean): void {
    const state = this.state!;
    state.latencies[state.settled] = performance.now() - (state.started + index * state.intervalMs);
    if (ok) state.answered++;
    else state.errors++;
    if (++state.settled === state.total) state.settle();
  }

  private send(connection: Connection, index: number): void {
    const state = this.state!;
    connection.inFlight = index;
    state.sendLate[index] = performance.now() - (state.started + index * state.intervalMs);
    connection.socket.write(state.requests[index % state.requests.length]!);
  }

  /** A free connection takes the oldest request that is due and unsent, or waits in the idle list. */
  private release(connection: Connection): void {
    connection.inFlight = undefined;
    const state = this.state;
    if (state && state.next < state.total && performance.now() >= state.started + state.next * state.intervalMs) {
      this.send(connection, state.next++);
    } else this.idle.push(connection);
  }

  /**
   * Offers `rate` requests per second for `durationMs`, open loop: request i is due at start + i/rate and
   * is sent then (or as soon as a connection is free), whatever the earlier ones are doing; its latency
   * runs from the due time to the end of its answer, so a wait for a free connection counts. Requests
   * still unanswered DRAIN_MS after the window are errors.
   */
  async offer(
    requests: readonly Buffer[],
    rate: number,
    durationMs: number,
    serverPid?: number,
    redisPid?: number,
  ): Promise<Window> {
    const total = Math.floor((rate * durationMs) / 1000);
    let settle: () => void = () => {};
    const allSettled = new Promise<void>((done) => {
      settle = done;
    });
    const reconnectsBefore = this.reconnects;
    const cpuBefore = cpuMsOf(serverPid);
    const redisCpuBefore = cpuMsOf(redisPid);
    const ownCpuBefore = process.cpuUsage();
    const state: OfferState = {
      started: performance.now(),
      intervalMs: 1000 / rate,
      total,
      requests,
      next: 0,
      settled: 0,
      answered: 0,
      errors: 0,
      latencies: new Float64Array(total),
      sendLate: new Float64Array(total),
      settle,
    };
    this.state = state;
    // Sends everything due on a free connection, then yields to I/O (setImmediate) so answers are read
    // between sends; a request due while every connection is busy goes out when one is released.
    await new Promise<void>((done) => {
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - state.started) / state.intervalMs) + 1);
        while (state.next < due) {
          const connection = this.idle.pop();
          if (!connection) break;
          this.send(connection, state.next++);
        }
        if (state.next < total) setImmediate(tick);
        else done();
      };
      tick();
    });
    const deadline = new Promise<void>((done) => setTimeout(done, DRAIN_MS).unref());
    await Promise.race([allSettled, deadline]);
    const cpuAfter = cpuMsOf(serverPid);
    const redisCpuAfter = cpuMsOf(redisPid);
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const elapsedMs = performance.now() - state.started;
    this.state = undefined;
    // An unanswered request counts as an error, with the time it has waited so far as its latency.
    const missing = total - state.settled;
    const latencies = Array.from(state.latencies.subarray(0, state.settled));
    for (let i = 0; i < missing; i++) latencies.push(elapsedMs - (total - 1 - i) * state.intervalMs);
    latencies.sort((a, b) => a - b);
    const sendLate = Array.from(state.sendLate.subarray(0, state.next)).sort((a, b) => a - b);
    // A connection still waiting for an answer after the window would answer into the next one: replace it.
    for (const connection of [...this.connections]) {
      if (connection.inFlight === undefined) continue;
      connection.retired = true;
      connection.socket.destroy();
    }
    return {
      latencies,
      sent: state.next,
      answered: state.answered,
      errors: state.errors + missing,
      sendLateP99Ms: percentile(sendLate, 0.99),
      reconnects: this.reconnects - reconnectsBefore,
      seconds: durationMs / 1000,
      generatorCpuShare: (ownCpu.user + ownCpu.system) / 1000 / elapsedMs,
      ...(redisCpuBefore !== undefined && redisCpuAfter !== undefined
        ? { redisCpuShare: (redisCpuAfter - redisCpuBefore) / elapsedMs }
        : {}),
      ...(cpuBefore !== undefined && cpuAfter !== undefined && state.answered > 0
        ? { serverCpuUsPerAnswer: ((cpuAfter - cpuBefore) * 1000) / state.answered }
        : {}),
    };
  }

  close(): void {
    this.closing = true;
    for (const connection of this.connections) connection.socket.destroy();
  }
}

/** A request's bytes on the wire: the same bodies for both sides, with the token for ours. */
function wire(url: string, bodies: readonly Buffer[], headers: Record<string, string>): Buffer[] {
  const { host } = new URL(url);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return bodies.map((body) =>
    Buffer.concat([
      Buffer.from(
        `POST /v1/models/iris/predict HTTP/1.1\r\nhost: ${host}\r\n${lines.join('')}content-length: ${body.length}\r\n\r\n`,
        'latin1',
      ),
      body,
    ]),
  );
}

interface Figures {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  achievedPerSec: number;
  errors: number;
  sendLateP99Ms: number;
  reconnects: number;
  serverCpuUsPerAnswer: number;
  /** Shares of the window the load generator and redis-server (both on CPU 1) were on a CPU. */
  generatorCpuShare: number;
  redisCpuShare: number;
}

const share = (fraction: number | undefined) => Math.round((fraction ?? Number.NaN) * 1000) / 1000;

function figuresOf(window: Window): Figures {
  return {
    p50Ms: round(percentile(window.latencies, 0.5)),
    p99Ms: round(percentile(window.latencies, 0.99)),
    p999Ms: round(percentile(window.latencies, 0.999)),
    maxMs: round(window.latencies.at(-1) ?? Number.NaN),
    achievedPerSec: Math.round(window.answered / window.seconds),
    errors: window.errors,
    sendLateP99Ms: round(window.sendLateP99Ms),
    reconnects: window.reconnects,
    serverCpuUsPerAnswer: Math.round(window.serverCpuUsPerAnswer ?? Number.NaN),
    generatorCpuShare: share(window.generatorCpuShare),
    redisCpuShare: share(window.redisCpuShare),
  };
}

const medianFigures = (all: readonly Figures[]): Figures => ({
  p50Ms: round(median(all.map((f) => f.p50Ms))),
  p99Ms: round(median(all.map((f) => f.p99Ms))),
  p999Ms: round(median(all.map((f) => f.p999Ms))),
  maxMs: round(median(all.map((f) => f.maxMs))),
  achievedPerSec: Math.round(median(all.map((f) => f.achievedPerSec))),
  errors: all.reduce((sum, f) => sum + f.errors, 0),
  sendLateP99Ms: round(median(all.map((f) => f.sendLateP99Ms))),
  reconnects: all.reduce((sum, f) => sum + f.reconnects, 0),
  serverCpuUsPerAnswer: Math.round(median(all.map((f) => f.serverCpuUsPerAnswer))),
  generatorCpuShare: share(median(all.map((f) => f.generatorCpuShare))),
  redisCpuShare: share(median(all.map((f) => f.redisCpuShare))),
});

async function main(): Promise<void> {
  const profileDir = option('--profile');
  if (hasTaskset) pin(process.pid, 1);
  const redisServer = await RedisServer.start();
  const redis = new Redis(redisServer.url);
  const redisPidText = /process_id:(\d+)/.exec(await redis.info('server'))?.[1];
  const redisPid = redisPidText ? Number(redisPidText) : undefined;
  if (redisPid) pin(redisPid, 1);
  const namespace = 'bench-serve';
  const dir = mkdtempSync(join(tmpdir(), 'batuta-bench-serve-'));
  const children: ChildProcess[] = [];
  try {
    // v2 is the same trees as v1 (a retrain that changed nothing), so both arms score alike.
    const modelPath = join(exampleDir, 'data/model.json');
    const modelsFile = join(dir, 'models.json');
    const example = JSON.parse(readFileSync(join(exampleDir, 'models.json'), 'utf8'));
    const iris = example.models.iris;
    iris.versions = { v1: { ...iris.versions.v1, model: modelPath }, v2: { ...iris.versions.v1, model: modelPath } };
    iris.gate.features.url = join(exampleDir, iris.gate.features.url);
    iris.gate.labels.url = join(exampleDir, iris.gate.labels.url);
    writeFileSync(modelsFile, JSON.stringify(example));

    const auth = new AuthStore(redis, { namespace });
    const { token } = await auth.createToken('bench', 'viewer', { models: ['iris'] });
    const canary = JSON.parse(readFileSync(join(exampleDir, 'canary.json'), 'utf8'));
    await new RolloutStore(redis, { model: 'iris', namespace }).start({ ...canary, model: 'iris' });

    // Every row of iris.csv, each as a different entity (sticky keys), one instance per request.
    const rows = readFileSync(join(exampleDir, 'data/iris.csv'), 'utf8').trim().split('\n');
    const bodies = Array.from({ length: 1_000 }, (_, i) => {
      const values = rows[(i * 37) % rows.length]!.split(',').map(Number);
      const features = Object.fromEntries(FEATURES.map((name, j) => [name, values[j]!]));
      return Buffer.from(JSON.stringify({ instances: [{ features, key: `flower-${i}` }] }));
    });
    const headers = { 'content-type': 'application/json' };

    const startRole = async (role: 'bare' | 'floor') => {
      const started = await startPinned(
        [...process.execArgv, fileURLToPath(import.meta.url)],
        { ...process.env, BATUTA_BENCH_SERVE_ROLE: role },
        `${role}_started`,
      );
      children.push(started.child);
      return started;
    };
    const bare = await startRole('bare');
    const floor = await startRole('floor');
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const ours = await startPinned(
      [
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : []),
        join(root, 'packages/cli/bin/batuta.js'),
        ...['serve', 'iris', '--models', modelsFile, '--port', '0'],
      ],
      {
        ...process.env,
        BATUTA_REDIS_URL: redisServer.url,
        BATUTA_NAMESPACE: namespace,
      },
      'serve_started',
    );
    children.push(ours.child);
    const oursHeaders = { ...headers, authorization: `Bearer ${token}` };

    console.log(
      `serve benchmark: ${RATE.toLocaleString('en')} req/s offered (open loop), ${ROUNDS} round(s) of ${MEASURE_MS / 1000} s per side after ${WARM_MS / 1000} s of warm-up; ${SOCKETS} keep-alive connections`,
    );
    console.log(
      hasTaskset
        ? '  servers pinned to CPU 0; load generator and redis-server on CPU 1 (taskset)'
        : '  processes are not pinned (--no-pin, no taskset, or one CPU)',
    );
    console.log(`  machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
    const stalls = probeMachineStalls(quick ? 3 : 10);
    console.log(
      `  machine stalls on CPU 0 (a busy loop alone for ${stalls.seconds} s): ${stalls.over1Ms} gaps > 1 ms, ${stalls.over2Ms} > 2 ms, longest ${stalls.maxMs} ms, ${(stalls.lostShare * 100).toFixed(2)} % of the time lost`,
    );
    const servers = { bare, ours, floor };
    const sides = { ours: [] as Figures[], bare: [] as Figures[], floor: [] as Figures[] };
    const rotation = ['bare', 'ours', 'floor'] as const;
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates, so a change in the (shared) machine's load weighs on every side alike.
      const order = rotation.map((_, i) => rotation[(i + r) % rotation.length]!);
      for (const side of order) {
        const { url, child } = servers[side];
        const requests = wire(url, bodies, side === 'ours' ? oursHeaders : headers);
        const pid = child.pid;
        const client = await LoadClient.open(url);
        await client.offer(requests, RATE, WARM_MS);
        // The generator's own garbage from the warm-up is collected before the measured window, not in it.
        globalThis.gc?.();
        const figures = figuresOf(await client.offer(requests, RATE, MEASURE_MS, pid, redisPid));
        client.close();
        sides[side].push(figures);
        console.log(
          `  round ${r + 1} ${side.padEnd(5)}: p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, p99.9 ${figures.p999Ms} ms, max ${figures.maxMs} ms; ${figures.achievedPerSec} answers/s, ${figures.errors} errors; server CPU ${figures.serverCpuUsPerAnswer} µs/answer; sender late p99 ${figures.sendLateP99Ms} ms; ${figures.reconnects} reconnects; CPU 1: generator ${figures.generatorCpuShare}, redis ${figures.redisCpuShare}`,
        );
      }
    }
    // Batch lookups through PredictionClient under a canary split against the unsplit client (same rows,
    // same private Redis server kind), once per round like the online sides.
    const lookups: SplitLookupFigures[] = [];
    for (let r = 0; r < ROUNDS; r++) lookups.push(await measureSplitLookups({ quick }));
    const lookupMedian = [...lookups].sort((a, b) => a.ratio - b.ratio)[Math.floor(lookups.length / 2)]!;
    console.log(
      `batch lookups (PredictionClient): canary split ${lookupMedian.splitOpsPerSec.toLocaleString('en')} lookups/s, unsplit ${lookupMedian.unsplitOpsPerSec.toLocaleString('en')} lookups/s, ratio ${lookupMedian.ratio}`,
    );
    const oursMedian = medianFigures(sides.ours);
    const bareMedian = medianFigures(sides.bare);
    const floorMedian = medianFigures(sides.floor);
    const overhead = Math.round((oursMedian.p99Ms / bareMedian.p99Ms) * 100) / 100;
    const figures = await new RolloutStore(redis, { model: 'iris', namespace }).figures();
    const armCounts = Object.fromEntries(Object.entries(figures.arms).map(([arm, f]) => [arm, f.requests]));
    console.log(
      `batuta serve (canary, token, validation): p50 ${oursMedian.p50Ms} ms, p99 ${oursMedian.p99Ms} ms (target ≤ ${TARGET_P99_MS}), ${oursMedian.achievedPerSec} answers/s, ${oursMedian.errors} errors, ${oursMedian.serverCpuUsPerAnswer} µs CPU/answer`,
    );
    console.log(
      `bare node:http + scorer:                   p50 ${bareMedian.p50Ms} ms, p99 ${bareMedian.p99Ms} ms, ${bareMedian.achievedPerSec} answers/s, ${bareMedian.errors} errors, ${bareMedian.serverCpuUsPerAnswer} µs CPU/answer`,
    );
    console.log(
      `floor (node:http, constant answer):        p50 ${floorMedian.p50Ms} ms, p99 ${floorMedian.p99Ms} ms, ${floorMedian.achievedPerSec} answers/s, ${floorMedian.errors} errors, ${floorMedian.serverCpuUsPerAnswer} µs CPU/answer`,
    );
    console.log(
      `overhead (p99 ours / p99 bare): ${overhead} (target ≤ ${TARGET_OVERHEAD}); requests per arm counted: ${JSON.stringify(armCounts)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'serve',
        quick,
        offeredPerSec: RATE,
        rounds: ROUNDS,
        measureSeconds: MEASURE_MS / 1000,
        pinned: hasTaskset,
        p99Ms: oursMedian.p99Ms,
        p50Ms: oursMedian.p50Ms,
        p999Ms: oursMedian.p999Ms,
        achievedPerSec: oursMedian.achievedPerSec,
        errors: oursMedian.errors,
        serverCpuUsPerAnswer: oursMedian.serverCpuUsPerAnswer,
        overhead,
        baseline: {
          implementation: 'node:http + JSON.parse + the same XgboostModel',
          p99Ms: bareMedian.p99Ms,
          p50Ms: bareMedian.p50Ms,
          p999Ms: bareMedian.p999Ms,
          achievedPerSec: bareMedian.achievedPerSec,
          errors: bareMedian.errors,
          serverCpuUsPerAnswer: bareMedian.serverCpuUsPerAnswer,
        },
        ratio: overhead,
        floor: {
          implementation: 'node:http answering a constant of the same length (no parsing, no scoring)',
          p99Ms: floorMedian.p99Ms,
          p50Ms: floorMedian.p50Ms,
          p999Ms: floorMedian.p999Ms,
          errors: floorMedian.errors,
          serverCpuUsPerAnswer: floorMedian.serverCpuUsPerAnswer,
        },
        machineStalls: stalls,
        sendLateP99Ms: Math.max(oursMedian.sendLateP99Ms, bareMedian.sendLateP99Ms, floorMedian.sendLateP99Ms),
        runs: sides,
        armCounts,
        lookups: {
          splitOpsPerSec: lookupMedian.splitOpsPerSec,
          unsplitOpsPerSec: lookupMedian.unsplitOpsPerSec,
          ratio: lookupMedian.ratio,
          runs: lookups,
        },
        targets: { p99Ms: TARGET_P99_MS, overhead: TARGET_OVERHEAD },
      }),
    );
  } finally {
    for (const child of children) await stopChild(child);
    redis.disconnect();
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = process.env.BATUTA_BENCH_SERVE_ROLE;
if (role === 'bare' || role === 'floor') runBare(role === 'floor');
else await main();
