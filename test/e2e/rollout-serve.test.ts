// Issue #13's acceptance through real processes: `batuta serve iris` answers predictions behind a token
// made by `batuta tokens create`; `batuta rollout start` puts a deliberately bad candidate (the iris
// model with every leaf and threshold zeroed: it calls every flower setosa) on a canary with a
// disagreement guard; `batuta rollout advance` (the guard check) aborts it on its own; every request got
// a 200 and, once the servers see the abort, every answer comes from the baseline. And the sticky
// assignment: the same keys get the same versions after the serve process restarts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useRedisServer } from '@batuta/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliDaemon, startCliDaemon } from './support/cli-daemon.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'packages', 'cli', 'bin', 'batuta.js');
const exampleData = join(root, 'examples', 'iris-batch', 'data');
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const run = promisify(execFile);

const harness = useRedisServer();
let dir: string;
let modelsFile: string;
const rows = readFileSync(join(exampleData, 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.split(',').map(Number));

type Server = CliDaemon;
const servers: Server[] = [];

/** `batuta ARGV…` as a process, to its end. */
async function batuta(namespace: string, ...argv: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [bin, ...argv], {
    env: { ...process.env, BATUTA_REDIS_URL: harness.url, BATUTA_NAMESPACE: namespace },
  });
}

/** Starts `batuta serve iris` on a free port; resolves once it logs serve_started. */
async function serve(namespace: string): Promise<Server> {
  const server = await startCliDaemon(
    ['serve', 'iris', '--models', modelsFile, '--port', '0'],
    { ...process.env, BATUTA_REDIS_URL: harness.url, BATUTA_NAMESPACE: namespace },
    'serve_started',
  );
  servers.push(server);
  return server;
}

/** Scores a flower (a stride through the example's rows) as entity `flower-<index>`; the status and the answer. */
async function predict(server: Server, token: string, index: number) {
  // A stride through the file: it is sorted by class, and the first rows are all setosa.
  const row = rows[(index * 37) % rows.length]!;
  const response = await fetch(`${server.url}/v1/models/iris/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      instances: [{ features: Object.fromEntries(FEATURES.map((name, i) => [name, row[i]!])), key: `flower-${index}` }],
    }),
  });
  const body = (await response.json()) as { predictions?: Array<{ version: string; prediction: string }> };
  return {
    status: response.status,
    version: body.predictions?.[0]?.version,
    prediction: body.predictions?.[0]?.prediction,
  };
}

/** `count` requests from `from`, ten at a time. */
async function traffic(server: Server, token: string, from: number, count: number) {
  const answers: Array<Awaited<ReturnType<typeof predict>>> = [];
  for (let start = from; start < from + count; start += 10) {
    const batch = Array.from({ length: Math.min(10, from + count - start) }, (_, i) =>
      predict(server, token, start + i),
    );
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

async function stop(server: Server): Promise<number | null> {
  server.child.kill('SIGTERM');
  return server.exited;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batuta-rollout-serve-'));
  const document = JSON.parse(readFileSync(join(exampleData, 'model.json'), 'utf8'));
  for (const tree of document.learner.gradient_booster.model.trees) {
    tree.base_weights = tree.base_weights.map(() => 0);
    tree.split_conditions = tree.split_conditions.map(() => 0);
  }
  writeFileSync(join(dir, 'zeroed.json'), JSON.stringify(document));
  modelsFile = join(dir, 'models.yaml');
  // The gate is lax on purpose (the zeroed model is right on a third of the rows): it stops what is
  // grossly broken, and the canary's disagreement guard catches what gets past it.
  writeFileSync(
    modelsFile,
    `models:
  iris:
    features: [${FEATURES.join(', ')}]
    defaultVersion: v1
    versions:
      v1: { model: ${join(exampleData, 'model.json')}, labels: [setosa, versicolor, virginica] }
      v2: { model: zeroed.json, labels: [setosa, versicolor, virginica] }
    gate:
      features: { url: ${join(exampleData, 'iris.csv')}, header: false }
      labels: { url: ${join(exampleData, 'iris_y.csv')}, header: false }
      bounds: { accuracy: { min: 0.3 } }
`,
  );
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('batuta serve with a canary', () => {
  it('aborts a bad candidate on its disagreement guard; every request is answered, then only by the baseline', async () => {
    const namespace = harness.namespace('canary');
    const token = (
      await batuta(namespace, 'tokens', 'create', 'e2e', '--role', 'viewer', '--model', 'iris')
    ).stdout.trim();
    const server = await serve(namespace);
    expect(server.lines.find((line) => line.event === 'model_loaded')).toMatchObject({
      versions: [
        { version: 'v1', servable: true },
        { version: 'v2', servable: true },
      ],
    });
    // A viewer token without the model's permission, and no token at all, are refused.
    const stranger = (
      await batuta(namespace, 'tokens', 'create', 'other', '--role', 'viewer', '--model', 'wine')
    ).stdout.trim();
    expect((await predict(server, stranger, 0)).status).toBe(403);
    expect((await predict(server, 'bt_nope', 0)).status).toBe(401);

    writeFileSync(
      join(dir, 'canary.yaml'),
      `strategy: canary
baseline: v1
candidate: v2
steps:
  - { share: 0.5, holdMs: 3600000, minRequests: 10 }
  - { share: 1.0, holdMs: 3600000 }
guards: { maxDisagreementRate: 0.2, maxErrorRate: 0.05 }
`,
    );
    await batuta(namespace, 'rollout', 'start', 'iris', '--file', join(dir, 'canary.yaml'));
    const during = await traffic(server, token, 0, 300);
    expect(during.every((answer) => answer.status === 200)).toBe(true);
    expect(during.some((answer) => answer.version === 'v2')).toBe(true);

    const checked = await batuta(namespace, 'rollout', 'advance', 'iris');
    expect(checked.stdout).toMatch(/^iris: abort \(disagreement /);
    const status = JSON.parse((await batuta(namespace, 'rollout', 'status', 'iris', '--json')).stdout);
    expect(status).toMatchObject({ status: 'aborted', serving: 'v1', split: { v1: 1, v2: 0 } });

    // The server rereads the rollout within its refresh time (1 s): wait for an all-baseline batch.
    const deadline = Date.now() + 20_000;
    let after = await traffic(server, token, 300, 20);
    while (after.some((answer) => answer.version !== 'v1') && Date.now() < deadline)
      after = await traffic(server, token, 300, 20);
    after = await traffic(server, token, 300, 200);
    expect(after.every((answer) => answer.status === 200 && answer.version === 'v1')).toBe(true);
    expect(await stop(server)).toBe(0);
  }, 120_000);

  it('keeps the sticky assignment across a restart of the serve process', async () => {
    const namespace = harness.namespace('sticky');
    const token = (await batuta(namespace, 'tokens', 'create', 'e2e', '--role', 'operator')).stdout.trim();
    writeFileSync(join(dir, 'ab.yaml'), 'strategy: ab\nbaseline: v1\ncandidate: v2\nsplit: 0.5\n');
    await batuta(namespace, 'rollout', 'start', 'iris', '--file', join(dir, 'ab.yaml'));
    const first = await serve(namespace);
    const before = await traffic(first, token, 0, 100);
    expect(await stop(first)).toBe(0);
    const second = await serve(namespace);
    const again = await traffic(second, token, 0, 100);
    expect(again.map((answer) => answer.version)).toEqual(before.map((answer) => answer.version));
    const v2 = before.filter((answer) => answer.version === 'v2').length;
    expect(v2).toBeGreaterThan(20);
    expect(v2).toBeLessThan(80);
  }, 120_000);
});
