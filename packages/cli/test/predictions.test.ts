// Issue #10, point 9: `batuta predictions …` reads the namespace the user named, accepts Python's
// nan, and can list versions and activate one, refusing a version known bad unless forced.
import { ingestPredictions, pythonTextKey } from '@batuta/ml-tasks';
import { useRedisServer } from '@batuta/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';

const harness = useRedisServer();

/** Runs `batuta …` in this process and returns its exit code and what it printed. */
async function batuta(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => out.push(parts.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => err.push(parts.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

async function ingest(namespace: string, version: string, rows: number[][], label: string): Promise<void> {
  await ingestPredictions(harness.redis, {
    model: 'iris',
    namespace,
    version,
    featureCount: 4,
    keys: rows.map((row) => pythonTextKey(row)),
    labels: rows.map(() => label),
  });
}

const ROW = [5.0, 2.9, 1.1, 0.4];

afterEach(() => {
  delete process.env.BATUTA_NAMESPACE;
});

describe('batuta predictions get', () => {
  it('looks up in the namespace given by --namespace', async () => {
    const namespace = harness.namespace();
    await ingest(namespace, 'v1', [ROW], 'setosa');
    const result = await batuta(
      'predictions',
      'get',
      'iris',
      '--redis',
      harness.url,
      '--namespace',
      namespace,
      '5.0',
      '2.9',
      '1.1',
      '0.4',
    );
    expect(result).toMatchObject({ code: 0, out: 'setosa' });
    expect(result.err).toMatch(new RegExp(`version v1; namespace ${namespace}`));
  });

  it('looks up in the namespace given by BATUTA_NAMESPACE', async () => {
    const namespace = harness.namespace();
    await ingest(namespace, 'v1', [ROW], 'versicolor');
    process.env.BATUTA_NAMESPACE = namespace;
    expect(
      await batuta('predictions', 'get', 'iris', '--redis', harness.url, '5.0', '2.9', '1.1', '0.4'),
    ).toMatchObject({
      code: 0,
      out: 'versicolor',
    });
  });

  it("accepts Python's nan (and inf) as a feature, hashed as Python writes it", async () => {
    const namespace = harness.namespace();
    await ingest(namespace, 'v1', [[Number.NaN, 2.9, Number.POSITIVE_INFINITY, 0.4]], 'virginica');
    expect(
      await batuta(
        'predictions',
        'get',
        'iris',
        '--redis',
        harness.url,
        '--namespace',
        namespace,
        'nan',
        '2.9',
        'inf',
        '0.4',
      ),
    ).toMatchObject({ code: 0, out: 'virginica' });
    expect(
      await batuta(
        'predictions',
        'get',
        'iris',
        '--redis',
        harness.url,
        '--namespace',
        namespace,
        'NaN',
        '2.9',
        'x',
        '0.4',
      ),
    ).toMatchObject({ code: 2, err: expect.stringMatching(/'x' is not a number/) });
    // A negative first feature would read as an option: '--' ends the options, as the help says.
    await ingest(namespace, 'v2', [[-1.5, 2.9, Number.NaN, 0.4]], 'setosa');
    expect(
      await batuta(
        'predictions',
        'get',
        'iris',
        '--redis',
        harness.url,
        '--namespace',
        namespace,
        '--',
        '-1.5',
        '2.9',
        'nan',
        '0.4',
      ),
    ).toMatchObject({ code: 0, out: 'setosa' });
  });

  it('says clearly when the lookup has the wrong number of features', async () => {
    const namespace = harness.namespace();
    await ingest(namespace, 'v1', [ROW], 'setosa');
    const result = await batuta(
      'predictions',
      'get',
      'iris',
      '--redis',
      harness.url,
      '--namespace',
      namespace,
      '5.0',
      '2.9',
    );
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/ingested with 4 features; the lookup has 2/);
  });
});

describe('batuta predictions versions | rollback | activate', () => {
  it('lists versions, rolls back past a bad one, and activates a bad one only with --force', async () => {
    const namespace = harness.namespace();
    const connection = ['--redis', harness.url, '--namespace', namespace];
    await ingest(namespace, 'v1', [ROW], 'setosa');
    await ingest(namespace, 'v2', [ROW], 'versicolor');
    await ingest(namespace, 'v3', [ROW], 'virginica');

    const rolled = await batuta('predictions', 'rollback', 'iris', ...connection);
    expect(rolled).toMatchObject({ code: 0, out: 'iris: current v3 → v2' });
    expect(rolled.err).toMatch(/v3 is now marked bad/);

    const listed = await batuta('predictions', 'versions', 'iris', ...connection);
    expect(listed.code).toBe(0);
    const lines = listed.out.split('\n');
    expect(lines[0]).toMatch(/VERSION\s+STATUS\s+ROWS\s+COMMITTED\s+GATE\s+MARK/);
    expect(lines.find((line) => line.includes('v2'))).toMatch(/^\*\s+v2\s+complete\s+1\s+\S+\s+passed/);
    expect(lines.find((line) => line.includes('v3'))).toMatch(/BAD: rolled back at/);

    const refused = await batuta('predictions', 'activate', 'iris', 'v3', ...connection);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/v3 is marked bad .*force/);
    expect(await batuta('predictions', 'activate', 'iris', 'v1', ...connection)).toMatchObject({
      code: 0,
      out: 'iris: current v2 → v1',
    });
    expect(await batuta('predictions', 'activate', 'iris', 'v3', '--force', ...connection)).toMatchObject({
      code: 0,
      out: 'iris: current v1 → v3',
    });
    expect(await batuta('predictions', 'activate', 'iris', ...connection)).toMatchObject({ code: 2 });
  });
});
