// Every CLI input is checked before anything reaches the store: unknown DAGs are "not found" (exit 3),
// bad flags and names are usage errors (exit 2), a poison payload is refused at publish, and a big conf
// comes from a file within the configured limit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@batuta/cli';
import { RedisStateStore } from '@batuta/scheduler';
import { eventStream } from '@batuta/scheduler/internals';
import { useRedisServer } from '@batuta/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const redis = useRedisServer();
let dir: string;

const DAG = `id: typed
schedule: { events: [ev1] }
params:
  n: { type: number, default: 1 }
  blob: { type: string, default: "" }
tasks:
  work: { operator: empty }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batuta-cli-inputs-'));
  writeFileSync(join(dir, 'typed.yaml'), DAG);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Runs `batuta …` in this process against the private Redis; returns the exit code and stderr. */
async function batuta(namespace: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void errors.push(parts.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await main([...args, '--redis', redis.url, '--namespace', namespace, '--dags', dir]);
  vi.restoreAllMocks();
  return { code, stderr: errors.join('\n') };
}

async function withStore<T>(namespace: string, body: (store: RedisStateStore) => Promise<T>): Promise<T> {
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

describe('batuta dags pause|unpause', () => {
  it('refuses a DAG not in the folder (exit 3) and a name outside the charset (exit 2), pausing nothing', async () => {
    const namespace = redis.namespace('pause');
    expect((await batuta(namespace, 'dags', 'pause', 'nope')).code).toBe(3);
    expect((await batuta(namespace, 'dags', 'unpause', 'nope')).code).toBe(3);
    const traversal = await batuta(namespace, 'dags', 'pause', '../*');
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toContain('../*');
    await withStore(namespace, async (store) => {
      expect(await store.isDagPaused('nope')).toBe(false);
      expect(await store.isDagPaused('../*')).toBe(false);
    });
    expect((await batuta(namespace, 'dags', 'pause', 'typed')).code).toBe(0);
    await withStore(namespace, async (store) => expect(await store.isDagPaused('typed')).toBe(true));
  });
});

describe('batuta runs list', () => {
  it.each([
    [['--state', 'bogus'], '--state'],
    [['--state', 'running,'], '--state'],
    [['--limit', 'abc'], '--limit'],
    [['--limit', '0'], '--limit'],
    [['--limit', '2.5'], '--limit'],
    [['--dag', 'a:b'], 'a:b'],
  ])('refuses %j as a usage error', async (flags, named) => {
    const result = await batuta(redis.namespace('list'), 'runs', 'list', ...flags);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it('takes known states and a whole limit', async () => {
    expect(
      (await batuta(redis.namespace('list'), 'runs', 'list', '--state', 'queued,failed', '--limit', '5')).code,
    ).toBe(0);
  });
});

describe('batuta events publish', () => {
  it('refuses the __proto__ payload of the issue at publish, naming the key, and publishes nothing', async () => {
    const namespace = redis.namespace('publish');
    const result = await batuta(namespace, 'events', 'publish', 'ev1', '--payload', '{"n":3,"__proto__":{"x":1}}');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'__proto__'");
    await withStore(namespace, async (store) => expect(await store.readEvents(eventStream('ev1'))).toEqual([]));
  });

  it.each([
    ['a name with a slash', ['up/loads', '--payload', '{}']],
    ['a name with ..', ['a..b']],
    ['a payload nested too deep', ['ev1', '--payload', `${'['.repeat(100)}${']'.repeat(100)}`]],
    ['a number past a double', ['ev1', '--payload', '{"n":1e400}']],
  ])('refuses %s (exit 2)', async (_label, args) => {
    expect((await batuta(redis.namespace('publish'), 'events', 'publish', ...args)).code).toBe(2);
  });

  it('publishes a payload read from --conf-file', async () => {
    const namespace = redis.namespace('publish');
    const file = join(dir, 'payload.json');
    writeFileSync(file, '{"n":7}');
    expect((await batuta(namespace, 'events', 'publish', 'ev1', '--conf-file', file)).code).toBe(0);
    await withStore(namespace, async (store) =>
      expect((await store.readEvents(eventStream('ev1'))).map((event) => event.payload)).toEqual([{ n: 7 }]),
    );
  });
});

describe('batuta dags trigger', () => {
  it('queues a 200 KiB conf read from --conf-file', async () => {
    const namespace = redis.namespace('trigger');
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify({ blob: 'x'.repeat(200 * 1024) }));
    expect((await batuta(namespace, 'dags', 'trigger', 'typed', '--conf-file', file)).code).toBe(0);
    await withStore(namespace, async (store) => {
      const [run] = await store.listRuns({ dagId: 'typed' });
      expect(String(run?.conf.blob)).toHaveLength(200 * 1024);
    });
  });

  it('refuses a conf file over the limit (2), a missing one (3), and --conf with --conf-file (2)', async () => {
    const namespace = redis.namespace('trigger');
    const file = join(dir, 'huge.json');
    writeFileSync(file, JSON.stringify({ blob: 'x'.repeat(300 * 1024) }));
    expect((await batuta(namespace, 'dags', 'trigger', 'typed', '--conf-file', file)).code).toBe(2);
    expect((await batuta(namespace, 'dags', 'trigger', 'typed', '--conf-file', join(dir, 'missing.json'))).code).toBe(
      3,
    );
    expect((await batuta(namespace, 'dags', 'trigger', 'typed', '--conf', '{}', '--conf-file', file)).code).toBe(2);
    await withStore(namespace, async (store) => expect(await store.listRuns({ dagId: 'typed' })).toEqual([]));
  });

  it('warns about a conf key the DAG does not declare, and refuses an unknown DAG (exit 3)', async () => {
    const namespace = redis.namespace('trigger');
    const typo = await batuta(namespace, 'dags', 'trigger', 'typed', '--conf', '{"nn":2}');
    expect(typo.code).toBe(0);
    expect(typo.stderr).toMatch(/warning: --conf key 'nn' is not a param of DAG 'typed' \(its params are n, blob\)/);
    expect((await batuta(namespace, 'dags', 'trigger', 'nope')).code).toBe(3);
  });
});
