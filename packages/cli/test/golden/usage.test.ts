// Golden tests of usage errors: typo'd commands and options get "Did you mean", an option of another
// command is refused, and bad values exit 2 with a message naming the option and the value. None of
// these reach Redis: the connection points at a port nothing listens on, so a command that did would
// exit 4, not 2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'batuta-usage-'));
const dagFile = join(dir, 'hello.yaml');
writeFileSync(dagFile, 'id: hello\ntasks:\n  say: { operator: empty }\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Connection flags that would fail (exit 4) if a command got as far as Redis. */
const NOWHERE = ['--redis', 'redis://127.0.0.1:1', '--dags', dir];

describe('typos get "Did you mean"', () => {
  it.each([
    ['a top-level command', ['dgas', 'list'], 'dags'],
    ['a verb of dags', ['dags', 'valdate', dagFile], 'validate'],
    ['a verb of runs', ['runs', 'lst'], 'list'],
    ['a verb of predictions', ['predictions', 'rollbak', 'iris'], 'rollback'],
    ['an option of runs list', ['runs', 'list', '--limt', '3', ...NOWHERE], '--limit'],
    ['an option of dags validate', ['dags', 'validate', dagFile, '--jsn'], '--json'],
    ['an option of dags trigger', ['dags', 'trigger', 'hello', '--wiat', ...NOWHERE], '--wait'],
    ['a connection option', ['status', '--namespce', 'x', ...NOWHERE], '--namespace'],
  ])('%s', async (_what, argv, suggestion) => {
    const result = await runCli(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`(Did you mean ${suggestion}?)`);
    expect(result.stderr).toMatchSnapshot();
  });
});

describe('an option of another command is refused (exit 2), the command does not run', () => {
  it.each([
    ['dags test --dry-run (used to run the DAG)', ['dags', 'test', dagFile, '--dry-run']],
    ['dags validate --wait --autoscale (used to exit 0)', ['dags', 'validate', dagFile, '--wait', '--autoscale']],
    ['dags list --redis', ['dags', 'list', dir, '--redis', 'redis://127.0.0.1:1']],
    ['runs show --force', ['runs', 'show', 'r1', '--force', ...NOWHERE]],
    ['worker --autoscale', ['worker', '--pool', 'default', '--autoscale', ...NOWHERE]],
    ['a stray argument to status', ['status', 'now', ...NOWHERE]],
  ])('%s', async (_what, argv) => {
    const result = await runCli(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^batuta [a-z ]+: (unknown option|too many arguments)/);
    expect(result.stderr).toMatchSnapshot();
  });
});

describe('bad values exit 2 with a clear message', () => {
  it.each([
    ['runs list --limit 0', ['runs', 'list', '--limit', '0', ...NOWHERE], '--limit'],
    ['runs list --limit ten', ['runs', 'list', '--limit', 'ten', ...NOWHERE], '--limit'],
    ['runs list --state runing', ['runs', 'list', '--state', 'running,runing', ...NOWHERE], "'runing'"],
    ['runs list --dag ../x', ['runs', 'list', '--dag', '../x', ...NOWHERE], '../x'],
    [
      'dags backfill --reprocess sometimes',
      [
        'dags',
        'backfill',
        'hello',
        '--from',
        '2026-01-01',
        '--to',
        '2026-01-02',
        '--reprocess',
        'sometimes',
        ...NOWHERE,
      ],
      'sometimes',
    ],
    [
      'dags backfill --max-active-runs -1',
      [
        'dags',
        'backfill',
        'hello',
        '--from',
        '2026-01-01',
        '--to',
        '2026-01-02',
        '--max-active-runs',
        '-1',
        ...NOWHERE,
      ],
      '--max-active-runs',
    ],
    ['dags backfill without --to', ['dags', 'backfill', 'hello', '--from', '2026-01-01', ...NOWHERE], '--to'],
    ['dags trigger without a DAG', ['dags', 'trigger', ...NOWHERE], 'dag'],
    ['dags trigger --conf that is not JSON', ['dags', 'trigger', 'hello', '--conf', '{nope', ...NOWHERE], '--conf'],
    [
      'dags trigger --conf with --conf-file',
      ['dags', 'trigger', 'hello', '--conf', '{}', '--conf-file', dagFile, ...NOWHERE],
      '--conf-file',
    ],
    ['dags cancel with two runs', ['dags', 'cancel', 'r1', 'r2', ...NOWHERE], 'too many arguments'],
    ['events publish a bad name', ['events', 'publish', 'a/b', ...NOWHERE], 'a/b'],
    [
      'predictions get a feature that is no number',
      ['predictions', 'get', 'iris', '5.0', 'wide', ...NOWHERE],
      "'wide'",
    ],
    ['db clean without --older-than', ['db', 'clean', ...NOWHERE], '--older-than'],
    ['db clean --older-than forever', ['db', 'clean', '--older-than', 'forever', ...NOWHERE], '--older-than'],
    ['scheduler --executor k8s', ['scheduler', '--executor', 'k8s', ...NOWHERE], 'k8s'],
    [
      'scheduler --shutdown-timeout soon',
      ['scheduler', '--shutdown-timeout', 'soon', ...NOWHERE],
      '--shutdown-timeout',
    ],
    ['worker without --pool', ['worker', ...NOWHERE], '--pool'],
    [
      'worker --lock-duration 1s (below the minimum)',
      ['worker', '--pool', 'default', '--lock-duration', '1s', ...NOWHERE],
      '--lock-duration',
    ],
    ['completion tcsh', ['completion', 'tcsh'], 'tcsh'],
    ['webserver --port 70000', ['webserver', '--port', '70000', ...NOWHERE], '--port'],
    ['webserver --anonymous-role root', ['webserver', '--anonymous-role', 'root', ...NOWHERE], 'root'],
    ['serve without --models', ['serve', 'iris', ...NOWHERE], '--models'],
    ['serve without a model', ['serve', '--models', dagFile, ...NOWHERE], 'models'],
    [
      'serve --gate-every 10ms',
      ['serve', 'iris', '--models', dagFile, '--gate-every', '10ms', ...NOWHERE],
      '--gate-every',
    ],
    ['rollout start without --file', ['rollout', 'start', 'iris', ...NOWHERE], '--file'],
    ['rollout status of a bad model name', ['rollout', 'status', 'a/b', ...NOWHERE], 'a/b'],
    [
      'users add without a password source',
      ['users', 'add', 'alice', '--role', 'viewer', ...NOWHERE],
      '--password-stdin',
    ],
    [
      'users add with a password argument',
      ['users', 'add', 'alice', 'hunter2', '--role', 'viewer', ...NOWHERE],
      'too many arguments',
    ],
    ['tokens create --role root', ['tokens', 'create', 'ci', '--role', 'root', ...NOWHERE], 'root'],
    ['tokens create without --role', ['tokens', 'create', 'ci', ...NOWHERE], '--role'],
    ['a bad --redis URL', ['status', '--redis', 'not a url', '--dags', dir], 'redisUrl'],
  ])('%s', async (_what, argv, named) => {
    const result = await runCli(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
    expect(result.stderr.replaceAll(dir, '<dir>')).toMatchSnapshot();
  });
});

describe('not found and unreachable', () => {
  it('exits 4 when Redis does not answer, naming the server', async () => {
    const result = await runCli(['runs', 'list', ...NOWHERE]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^batuta runs list: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 /);
  });

  it('exits 4 for predictions when Redis does not answer', async () => {
    const result = await runCli(['predictions', 'versions', 'iris', ...NOWHERE]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('cannot reach Redis');
  });

  it.each([
    ['users list', ['users', 'list', ...NOWHERE]],
    ['tokens list', ['tokens', 'list', ...NOWHERE]],
    ['rollout status', ['rollout', 'status', 'iris', ...NOWHERE]],
  ])('exits 4 for %s when Redis does not answer', async (_what, argv) => {
    const result = await runCli(argv);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('cannot reach Redis');
  });

  it('exits 3 when dags test names a DAG the file does not define', async () => {
    const result = await runCli(['dags', 'test', dagFile, '--dag', 'nope']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("defines no DAG 'nope'");
  });

  it('exits 3 when --conf-file does not exist', async () => {
    const result = await runCli(['dags', 'test', dagFile, '--conf-file', join(dir, 'missing.json')]);
    expect(result.code).toBe(3);
  });
});
