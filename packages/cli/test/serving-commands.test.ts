// `batuta users`, `batuta tokens`, `batuta rollout` and the models file of `batuta serve`, in this process
// against a private Redis: passwords never from argv, a token printed once and never listed with its
// hash, rollouts driven through the same store the model servers route by, and file errors that name
// file:line:column.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RolloutStore } from '@batuta/ml-tasks';
import { useRedisServer } from '@batuta/testing';
import { AuthStore } from '@batuta/web';
import { afterAll, describe, expect, it } from 'vitest';
import { readPassword } from '../src/commands/auth.js';
import { rolloutStatusJson, tokensListJson, usersListJson } from '../src/json-shapes.js';
import { loadServedModel, readModelsFile } from '../src/models-file.js';
import { runCli } from './golden/run-cli.js';

const harness = useRedisServer();
const dir = mkdtempSync(join(tmpdir(), 'batuta-serving-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const exampleModels = join(import.meta.dirname, '..', '..', '..', 'examples', 'iris-batch', 'models.json');

const connection = (namespace: string) => ['--redis', harness.url, '--namespace', namespace];

describe('batuta users', () => {
  it('adds a user from a password file, lists it without its hash, and removes it (3 for an unknown one)', async () => {
    const ns = harness.namespace('users');
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'correct horse battery\n');
    const added = await runCli([
      'users',
      'add',
      'alice',
      '--role',
      'operator',
      '--password-file',
      passwordFile,
      ...connection(ns),
    ]);
    expect(added).toMatchObject({ code: 0, stdout: 'added user alice (operator)' });
    const auth = new AuthStore(harness.redis, { namespace: ns });
    const login = await auth.login('alice', 'correct horse battery');
    expect(login).toMatchObject({ session: { user: 'alice', role: 'operator' } });

    const listed = await runCli(['users', 'list', '--json', ...connection(ns)]);
    expect(listed.code).toBe(0);
    const users = usersListJson.parse(JSON.parse(listed.stdout));
    expect(users.users.map((user) => [user.name, user.role])).toEqual([['alice', 'operator']]);
    expect(listed.stdout).not.toContain('scrypt');

    expect((await runCli(['users', 'remove', 'alice', ...connection(ns)])).code).toBe(0);
    expect((await runCli(['users', 'remove', 'alice', ...connection(ns)])).code).toBe(3);
    expect(await auth.login('alice', 'correct horse battery')).toBeUndefined();
  });

  it('refuses a password on the command line, a short one, and a bad role (exit 2)', async () => {
    const ns = harness.namespace('users-bad');
    const missing = await runCli(['users', 'add', 'bob', '--role', 'viewer', ...connection(ns)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--password-file PATH or --password-stdin');
    expect((await runCli(['users', 'add', 'bob', 'hunter22', '--role', 'viewer', ...connection(ns)])).code).toBe(2);
    const short = join(dir, 'short');
    writeFileSync(short, 'abc');
    expect(
      (await runCli(['users', 'add', 'bob', '--role', 'viewer', '--password-file', short, ...connection(ns)])).code,
    ).toBe(2);
    expect(
      (await runCli(['users', 'add', 'bob', '--role', 'root', '--password-file', short, ...connection(ns)])).code,
    ).toBe(2);
    expect(await new AuthStore(harness.redis, { namespace: ns }).listUsers()).toEqual([]);
  });

  it('reads a password from stdin, dropping one trailing newline', async () => {
    expect(await readPassword({ passwordStdin: true }, Readable.from(['pass word \n']))).toBe('pass word ');
    await expect(readPassword({ passwordStdin: true, passwordFile: 'x' })).rejects.toThrow('not both');
  });
});

describe('batuta tokens', () => {
  it('prints a token once, which the store verifies; lists never show a hash; revoke by id (3 when unknown)', async () => {
    const ns = harness.namespace('tokens');
    const created = await runCli([
      'tokens',
      'create',
      'ci bot',
      '--role',
      'viewer',
      '--model',
      'iris',
      ...connection(ns),
    ]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^bt_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
    const auth = new AuthStore(harness.redis, { namespace: ns });
    expect(await auth.verifyToken(token)).toMatchObject({ role: 'viewer', models: ['iris'] });

    const listed = await runCli(['tokens', 'list', '--json', ...connection(ns)]);
    const tokens = tokensListJson.parse(JSON.parse(listed.stdout)).tokens;
    expect(tokens).toMatchObject([{ name: 'ci bot', role: 'viewer', models: ['iris'] }]);
    const secret = token.slice(16);
    for (const text of [listed.stdout, (await runCli(['tokens', 'list', ...connection(ns)])).stdout]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('scrypt');
    }
    expect((await runCli(['tokens', 'revoke', tokens[0]!.id, ...connection(ns)])).code).toBe(0);
    expect(await new AuthStore(harness.redis, { namespace: ns }).verifyToken(token)).toBeUndefined();
    expect((await runCli(['tokens', 'revoke', tokens[0]!.id, ...connection(ns)])).code).toBe(3);
  });
});

describe('batuta rollout', () => {
  const canary = (file: string, extra = '') => {
    writeFileSync(
      file,
      `strategy: canary
baseline: v1
candidate: v2
steps:
  - { share: 0.1, holdMs: 0, minRequests: 10 }
  - { share: 1.0, holdMs: 0, minRequests: 10 }
guards: { maxDisagreementRate: 0.2 }
${extra}`,
    );
    return file;
  };

  it('starts a canary from a file, reports it, checks its guards, and aborts a disagreeing candidate', async () => {
    const ns = harness.namespace('rollout');
    const spec = canary(join(dir, 'canary.yaml'));
    const started = await runCli(['rollout', 'start', 'iris', '--file', spec, ...connection(ns)]);
    expect(started).toMatchObject({ code: 0 });
    expect(started.stdout).toContain('split v1 90 %, v2 10 %');
    expect((await runCli(['rollout', 'start', 'iris', '--file', spec, ...connection(ns)])).code).toBe(1);

    const store = new RolloutStore(harness.redis, { model: 'iris', namespace: ns });
    for (let i = 0; i < 40; i++) {
      await store.record({ arm: 'baseline', version: 'v1' }, { key: `b${i}` });
      await store.record({ arm: 'candidate', version: 'v2' }, { compared: true, disagreed: true, key: `c${i}` });
    }
    const status = await runCli(['rollout', 'status', 'iris', '--json', ...connection(ns)]);
    const report = rolloutStatusJson.parse(JSON.parse(status.stdout));
    expect(report).toMatchObject({
      strategy: 'canary',
      status: 'running',
      step: 1,
      steps: 2,
      split: { v1: 0.9, v2: 0.1 },
    });
    expect(report.figures.find((f) => f.arm === 'v2')).toMatchObject({ requests: 40, compared: 40, disagreements: 40 });
    expect(report.errorRate).not.toBeNull();
    const text = await runCli(['rollout', 'status', 'iris', ...connection(ns)]);
    expect(text.stdout).toContain('error rate (candidate − baseline)');

    const checked = await runCli(['rollout', 'advance', 'iris', ...connection(ns)]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^iris: abort \(disagreement 1 /);
    expect((await store.get()).status).toBe('aborted');
    expect((await runCli(['rollout', 'advance', 'iris', ...connection(ns)])).code).toBe(3);
  });

  it('forces a step, promotes, and rolls a promoted rollout back with abort', async () => {
    const ns = harness.namespace('rollout-promote');
    const spec = canary(join(dir, 'canary2.yaml'), 'model: iris\n');
    expect((await runCli(['rollout', 'start', 'iris', '--file', spec, ...connection(ns)])).code).toBe(0);
    const forced = await runCli(['rollout', 'advance', 'iris', '--force', ...connection(ns)]);
    expect(forced.stdout).toContain('split v1 0 %, v2 100 %');
    expect((await runCli(['rollout', 'promote', 'iris', ...connection(ns)])).stdout).toContain('v2 serves everything');
    expect((await runCli(['rollout', 'abort', 'iris', '--reason', 'pager', ...connection(ns)])).stdout).toContain(
      'v1 serves everything (pager)',
    );
    const report = rolloutStatusJson.parse(
      JSON.parse((await runCli(['rollout', 'status', 'iris', '--json', ...connection(ns)])).stdout),
    );
    expect(report).toMatchObject({ status: 'aborted', serving: 'v1', reason: 'pager' });
  });

  it('shows a running bandit by its rewards, with no fixed split', async () => {
    const ns = harness.namespace('rollout-bandit');
    const spec = join(dir, 'bandit.yaml');
    writeFileSync(spec, 'strategy: bandit\nbaseline: v1\ncandidates: [v2, v3]\n');
    expect((await runCli(['rollout', 'start', 'iris', '--file', spec, ...connection(ns)])).code).toBe(0);
    await new RolloutStore(harness.redis, { model: 'iris', namespace: ns }).reward('v2', 1);
    const report = rolloutStatusJson.parse(
      JSON.parse((await runCli(['rollout', 'status', 'iris', '--json', ...connection(ns)])).stdout),
    );
    expect(report).toMatchObject({ strategy: 'bandit', candidates: ['v2', 'v3'], split: {} });
    expect(report.bandit?.v2).toEqual({ pulls: 1, rewards: 1 });
    const text = (await runCli(['rollout', 'status', 'iris', ...connection(ns)])).stdout;
    expect(text).toContain('by rewards (v1: 0 rewarded, mean -; v2: 1 rewarded, mean 1; v3: 0 rewarded, mean -)');
  });

  it('names file:line:column of a bad rollout file (exit 1), 3 for a missing one, 3 with no rollout', async () => {
    const ns = harness.namespace('rollout-bad');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'strategy: canary\nbaseline: v1\ncandidate: v2\nsteps:\n  - { share: 0.5, holdMs: soon }\n');
    const result = await runCli(['rollout', 'start', 'iris', '--file', bad, ...connection(ns)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}:5:27: steps.0.holdMs:`);
    const other = canary(join(dir, 'other.yaml'), 'model: wine\n');
    expect((await runCli(['rollout', 'start', 'iris', '--file', other, ...connection(ns)])).code).toBe(2);
    expect((await runCli(['rollout', 'start', 'iris', '--file', join(dir, 'none.yaml'), ...connection(ns)])).code).toBe(
      3,
    );
    expect((await runCli(['rollout', 'status', 'iris', ...connection(ns)])).code).toBe(3);
    expect((await runCli(['rollout', 'promote', 'iris', ...connection(ns)])).code).toBe(3);
  });
});

describe('the models file of batuta serve', () => {
  it('loads the example: every version and the gate of the iris model', async () => {
    const file = readModelsFile(exampleModels);
    const loaded = await loadServedModel(exampleModels, 'iris', file.models.iris!);
    expect(loaded.featureNames).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(loaded.versions.map((v) => [v.version, v.model.featureCount])).toEqual([['v1', 4]]);
    expect(loaded.gate?.trusted.rows).toBe(loaded.gate?.trusted.labels.length);
  });

  it.each([
    ['an unknown default version', 'defaultVersion: v9\n', ':5:21: models.iris.defaultVersion:'],
    ['a misspelt key', 'defaultVersion: v1\n    gates: {}\n', 'Unrecognized key'],
    ['a key given twice', 'defaultVersion: v1\n    defaultVersion: v1\n', ':6:5:'],
  ])('names where %s is (exit 1 through serve)', async (_what, tail, expected) => {
    const file = join(dir, `models-${tail.length}.yaml`);
    writeFileSync(
      file,
      `models:\n  iris:\n    features: [a, b, c, d]\n    versions: { v1: { model: m.json } }\n    ${tail}`,
    );
    expect(() => readModelsFile(file)).toThrow(expected);
    const served = await runCli(['serve', 'iris', '--models', file, ...connection(harness.namespace('serve-bad'))]);
    expect(served.code).toBe(1);
    expect(served.stderr).toContain(file);
  });

  it('exits 3 for a model the file does not name, and for a missing file', async () => {
    const ns = harness.namespace('serve-missing');
    expect((await runCli(['serve', 'wine', '--models', exampleModels, ...connection(ns)])).code).toBe(3);
    expect((await runCli(['serve', 'iris', '--models', join(dir, 'nope.yaml'), ...connection(ns)])).code).toBe(3);
  });
});
