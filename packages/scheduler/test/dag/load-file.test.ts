// A TypeScript or JavaScript DAG module imports @batuta/scheduler, an ES module. Node decides a .ts/.js
// file's format from the nearest package.json; a DAG file it would load as CommonJS (no package.json, or
// one without "type": "module") is loaded as an ES module all the same. A .cts file is refused with the fix.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDagsFromFile } from '../../src/dag/load-file.js';
import { BatutaError } from '../../src/errors.js';

// TypeScript syntax (annotations) and a relative import of a TypeScript helper, as real DAG files have.
const TS_SOURCE = `import { defineDag } from '@batuta/scheduler';
import { hourly } from './helper.ts';
const id: string = 'from_module';
export const dag = defineDag({ id, schedule: hourly });
dag.task('only', { run: (): number => 1 });
`;
const HELPER_SOURCE = `export const hourly: string = '@hourly';\n`;
const JS_SOURCE = `import { defineDag } from '@batuta/scheduler';
export const dag = defineDag({ id: 'from_module', schedule: '@hourly' });
dag.task('only', { run: () => 1 });
`;
const schedulerPackage = fileURLToPath(new URL('../..', import.meta.url));

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'batuta-load-file-'));
  // The DAG files resolve @batuta/scheduler as a user's project would: from node_modules above them.
  mkdirSync(join(root, 'node_modules', '@batuta'), { recursive: true });
  symlinkSync(schedulerPackage, join(root, 'node_modules', '@batuta', 'scheduler'), 'dir');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `file` (and the helper) in a fresh folder holding `packageJson` (none when undefined); returns its path. */
function dagIn(name: string, file: string, packageJson: string | undefined, source: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), packageJson);
  writeFileSync(join(dir, 'helper.ts'), HELPER_SOURCE);
  writeFileSync(join(dir, file), source);
  return join(dir, file);
}

describe('loadDagsFromFile on a module Node would load as CommonJS', () => {
  const loaded: Array<[string, string, string | undefined, string]> = [
    ['a .ts file with no package.json above it', 'dag.ts', undefined, 'no-package'],
    ['a .ts file whose package.json says "type": "commonjs"', 'dag.ts', '{"type": "commonjs"}', 'commonjs'],
    ['a .js file whose package.json has no type', 'dag.js', '{"name": "dags"}', 'untyped'],
    ['a .ts file whose package.json says "type": "module"', 'dag.ts', '{"type": "module"}', 'esm-ts'],
    ['a .mts file with no package.json above it', 'dag.mts', undefined, 'mts'],
  ];
  it.each(loaded)('loads %s as an ES module', async (_what, file, packageJson, folder) => {
    const dags = await loadDagsFromFile(dagIn(folder, file, packageJson, file.endsWith('.js') ? JS_SOURCE : TS_SOURCE));
    expect(dags.map((dag) => dag.id)).toEqual(['from_module']);
    expect(dags[0]?.schedule).toMatchObject({ kind: 'cron', cron: '0 * * * *' });
  });

  it('loads a CommonJS-scoped TypeScript DAG again after it changed (fresh)', async () => {
    const path = dagIn('fresh', 'dag.ts', '{"type": "commonjs"}', TS_SOURCE);
    expect((await loadDagsFromFile(path)).map((dag) => dag.id)).toEqual(['from_module']);
    writeFileSync(path, TS_SOURCE.replace("'from_module'", "'renamed'"));
    expect((await loadDagsFromFile(path, { fresh: true })).map((dag) => dag.id)).toEqual(['renamed']);
  });

  it('loads them in a plain Node process too (outside the test runner module loader)', () => {
    // Vitest may compile imported files itself; the CLI and the scheduler run under Node and tsx alone.
    const files = [
      dagIn('child-no-package', 'dag.ts', undefined, TS_SOURCE),
      dagIn('child-commonjs', 'dag.ts', '{"type": "commonjs"}', TS_SOURCE),
      dagIn('child-js', 'dag.js', undefined, JS_SOURCE),
    ];
    const script = `import { loadDagsFromFile } from '@batuta/scheduler';
for (const file of ${JSON.stringify(files)}) console.log((await loadDagsFromFile(file)).map((dag) => dag.id).join());`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: schedulerPackage,
      encoding: 'utf8',
    });
    expect(output.trim().split('\n')).toEqual(['from_module', 'from_module', 'from_module']);
  }, 60_000);

  it('refuses a .cts file (CommonJS by name) before running it, saying what to do', async () => {
    const error = await loadDagsFromFile(dagIn('cts', 'dag.cts', '{"type": "module"}', TS_SOURCE)).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(BatutaError);
    expect((error as BatutaError).code).toBe('MODULE_FORMAT');
    expect((error as BatutaError).message).toMatch(/a \.cts file is CommonJS.*rename it to dag\.mts/);
  });
});
