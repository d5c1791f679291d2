// `batuta dags validate|list FOLDER` read a folder with the scheduler's own scan, so what they report is
// exactly what a scheduler pointed at the folder would load: YAML, TypeScript and JavaScript DAGs alike.
import { fileURLToPath } from 'node:url';
import { main } from '@batuta/cli';
import { registerMlOperators } from '@batuta/ml-tasks';
import { createOperatorRegistry, DagFolder } from '@batuta/scheduler';
import { afterEach, describe, expect, it, vi } from 'vitest';

const examples = fileURLToPath(new URL('../../../examples', import.meta.url));

afterEach(() => vi.restoreAllMocks());

/** Runs `batuta …` in this process; returns the exit code and what it printed. */
async function batuta(...args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void stdout.push(parts.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void stderr.push(parts.join(' ')));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

async function schedulerDagIds(): Promise<string[]> {
  const operators = createOperatorRegistry();
  registerMlOperators(operators);
  const folder = new DagFolder(examples, operators);
  const change = await folder.scan();
  expect(change.failed).toEqual([]);
  return [...folder.dags.keys()].sort();
}

describe('dags validate and dags list on a folder', () => {
  it('validate finds the DAGs the scheduler loads from the examples folder, TypeScript ones included', async () => {
    const { code, stdout } = await batuta('dags', 'validate', examples);
    expect(code).toBe(0);
    const ids = stdout.flatMap((line) => /^ok {2}\S+: (\S+) \(/.exec(line)?.[1] ?? []).sort();
    expect(ids).toEqual(await schedulerDagIds());
    expect(ids).toEqual(['branching', 'hello', 'hello_ts', 'iris_batch', 'iris_batch_ts', 'mapping', 'mapping_yaml']);
    expect(stdout.at(-1)).toBe('7 valid, 0 invalid');
  });

  it('list shows the DAGs the scheduler loads from the examples folder', async () => {
    const { code, stdout } = await batuta('dags', 'list', examples);
    expect(code).toBe(0);
    const ids = stdout
      .slice(1)
      .map((line) => line.split(/\s+/)[0])
      .sort();
    expect(ids).toEqual(await schedulerDagIds());
  });
});
