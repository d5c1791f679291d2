// A full disk on a worker is a task error like any other: the command's own write fails with ENOSPC and the
// attempt fails with that message (retried per its `retries`), and when the worker cannot write the params
// file the attempt fails with the file system's error instead of crashing or hanging the worker. /dev/full
// answers every write with ENOSPC, so no privileged mount is needed.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskContext } from '../../src/dag/model.js';
import { shellOperator } from '../../src/operators/builtin.js';

function context(): TaskContext {
  return {
    dagId: 'disk',
    runId: 'manual__disk__1',
    taskId: 'write',
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: Date.UTC(2026, 2, 1),
    params: { n: 1 },
    inputs: {},
    item: undefined,
    signal: new AbortController().signal,
    log: () => {},
    progress: () => {},
  };
}

const run = (command: string) =>
  Promise.resolve(shellOperator.run(context(), shellOperator.args!.parse({ command, output: 'stdout' })));

const savedTmpdir = process.env.TMPDIR;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('a full disk on a worker', () => {
  it('fails the attempt with the command’s ENOSPC message (SHELL_EXIT), like any failing command', async () => {
    await expect(run('echo results | cat > /dev/full')).rejects.toMatchObject({
      code: 'SHELL_EXIT',
      message: expect.stringMatching(/No space left on device/),
    });
  });

  it('fails the attempt with the file system’s error when the params file cannot be written, and the next attempt runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'batuta-disk-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const notADirectory = join(dir, 'plain-file');
    writeFileSync(notADirectory, '');
    process.env.TMPDIR = notADirectory;
    await expect(run('echo never')).rejects.toMatchObject({ code: 'ENOTDIR' });
    process.env.TMPDIR = dir;
    await expect(run('cat "$BATUTA_PARAMS_FILE"')).resolves.toBe('{"n":1}');
  });
});
