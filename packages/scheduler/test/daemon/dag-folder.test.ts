import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagFolder } from '../../src/daemon/dag-folder.js';
import { createOperatorRegistry } from '../../src/operators/builtin.js';

const good = (id: string, command: string) =>
  `id: ${id}\ntasks:\n  a:\n    operator: shell\n    with: { command: "${command}" }\n`;

describe('DagFolder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'batuta-folder-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes a file with a distinct modification time, so a rescan sees the change. */
  let tick = 1_700_000_000;
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    tick += 10;
    utimesSync(file, tick, tick);
  };

  it('loads, reloads a changed file, and forgets a deleted one', async () => {
    const folder = new DagFolder(dir, createOperatorRegistry());
    write('one.yaml', good('one', 'echo 1'));
    write('two.yaml', good('two', 'echo 2'));
    const first = await folder.scan();
    expect(first.loaded.flatMap((l) => l.dagIds).sort()).toEqual(['one', 'two']);
    expect([...folder.dags.keys()].sort()).toEqual(['one', 'two']);

    write('one.yaml', good('one', 'echo changed'));
    const second = await folder.scan();
    expect(second.loaded.map((l) => l.dagIds)).toEqual([['one']]);
    expect(folder.dags.get('one')?.tasks[0]?.with.command).toBe('echo changed');

    rmSync(join(dir, 'two.yaml'));
    const third = await folder.scan();
    expect(third.removed.map((r) => r.dagIds)).toEqual([['two']]);
    expect([...folder.dags.keys()]).toEqual(['one']);
  });

  it('keeps the last good version of a file whose new version is broken, and reports where', async () => {
    const folder = new DagFolder(dir, createOperatorRegistry());
    write('one.yaml', good('one', 'echo 1'));
    await folder.scan();
    write('one.yaml', 'id: one\ntasks:\n  a:\n    operator: shel\n');
    const change = await folder.scan();
    expect(change.failed).toHaveLength(1);
    expect(change.failed[0]!.keptDagIds).toEqual(['one']);
    expect(change.failed[0]!.message).toMatch(/one\.yaml:4:15: UNKNOWN_OPERATOR tasks\.a\.operator/);
    expect(folder.dags.get('one')?.tasks[0]?.operator).toBe('shell');
    expect(folder.failures.size).toBe(1);
    // The same broken version is not reported again on every scan.
    expect((await folder.scan()).failed).toHaveLength(0);
    write('one.yaml', good('one', 'echo fixed'));
    await folder.scan();
    expect(folder.failures.size).toBe(0);
    expect(folder.dags.get('one')?.tasks[0]?.with.command).toBe('echo fixed');
  });

  it('applies a deployment check (such as pool placement) as a load error', async () => {
    const folder = new DagFolder(dir, createOperatorRegistry(), (dag) =>
      dag.tasks
        .filter((t) => t.resources.gpu > 0)
        .map((t) => ({ code: 'NO_POOL_FITS', field: `tasks.${t.id}.resources`, message: 'no pool has a gpu' })),
    );
    write('gpu.yaml', 'id: gpu\ntasks:\n  train:\n    operator: empty\n    resources: { gpu: 1 }\n');
    const change = await folder.scan();
    expect(change.failed[0]!.message).toMatch(/NO_POOL_FITS tasks\.train\.resources: no pool has a gpu/);
    expect(folder.dags.size).toBe(0);
  });

  it('refuses a second file with a DAG id already loaded, once, and takes it when the first file goes', async () => {
    const folder = new DagFolder(dir, createOperatorRegistry());
    write('a.yaml', good('same', 'echo a'));
    write('b.yaml', good('same', 'echo b'));
    const first = await folder.scan();
    expect(first.failed.map((f) => f.file)).toEqual([join(dir, 'b.yaml')]);
    expect(first.failed[0]!.message).toMatch(
      /b\.yaml:1:5: DUPLICATE_DAG_ID id: DAG id 'same' is already defined in \S+a\.yaml/,
    );
    expect(folder.dags.get('same')?.tasks[0]?.with.command).toBe('echo a');
    expect((await folder.scan()).failed).toEqual([]);
    expect([...folder.failures.keys()]).toEqual([join(dir, 'b.yaml')]);

    rmSync(join(dir, 'a.yaml'));
    await folder.scan();
    expect(folder.dags.get('same')?.tasks[0]?.with.command).toBe('echo b');
    expect(folder.failures.size).toBe(0);
  });
});
