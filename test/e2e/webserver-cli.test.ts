// `batuta webserver` as a process: it logs webserver_started with its URL, lists the DAGs of the folder
// it was given to a token made by `batuta tokens create`, refuses a request without one, lets one in
// with --anonymous-role, picks up a DAG file added while it runs, and stops cleanly on SIGTERM.
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useRedisServer } from '@batuta/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { batutaBin as bin, startCliDaemon } from './support/cli-daemon.js';

const run = promisify(execFile);
const harness = useRedisServer();
const dir = mkdtempSync(join(tmpdir(), 'batuta-webserver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function webserver(namespace: string, ...argv: string[]) {
  const env = { ...process.env, BATUTA_REDIS_URL: harness.url, BATUTA_NAMESPACE: namespace, BATUTA_DAGS: dir };
  const daemon = await startCliDaemon(['webserver', '--port', '0', ...argv], env, 'webserver_started');
  children.push(daemon.child);
  return { ...daemon, env };
}

describe('batuta webserver', () => {
  it('serves the DAG folder behind tokens, rescans it, and stops cleanly on SIGTERM', async () => {
    writeFileSync(join(dir, 'hello.yaml'), 'id: hello\ntasks:\n  say: { operator: empty }\n');
    const namespace = harness.namespace('web');
    const server = await webserver(namespace);
    const token = (
      await run(process.execPath, [bin, 'tokens', 'create', 'e2e', '--role', 'viewer'], { env: server.env })
    ).stdout.trim();
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/dags`)).status).toBe(401);
    const dagIds = async () => {
      const response = await fetch(`${server.url}/api/dags`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return JSON.stringify(await response.json());
    };
    expect(await dagIds()).toContain('"hello"');
    writeFileSync(join(dir, 'later.yaml'), 'id: later\ntasks:\n  say: { operator: empty }\n');
    const deadline = Date.now() + 20_000;
    while (!(await dagIds()).includes('"later"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await dagIds()).toContain('"later"');
    // The command wires the pools (BullMQ) and the log store: both answer, not 503 or an empty list.
    const pools = await fetch(`${server.url}/api/pools`, { headers: { authorization: `Bearer ${token}` } });
    expect(pools.status).toBe(200);
    expect(JSON.stringify(await pools.json())).toContain('"default"');
    const logs = await fetch(`${server.url}/api/runs/none/tasks/say/logs`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logs.status).not.toBe(503);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.lines.map((line) => line.event)).toContain('webserver_stopping');
  }, 90_000);

  it('lets requests without credentials in only with --anonymous-role', async () => {
    const server = await webserver(harness.namespace('anonymous'), '--anonymous-role', 'viewer');
    expect((await fetch(`${server.url}/api/dags`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 60_000);
});
