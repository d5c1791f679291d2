// A TypeScript or JavaScript DAG module must be an ES module (it imports @batuta/scheduler, which is one).
// Node decides a .ts/.js file's format from the nearest package.json; a file it would load as CommonJS
// is refused before any of its code runs, with the fix in the message.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDagsFromFile } from '../../src/dag/load-file.js';
import { BatutaError } from '../../src/errors.js';

const DAG_SOURCE = `import { defineDag } from '@batuta/scheduler';
export const dag = defineDag({ id: 'from_module', schedule: '@daily' });
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

/** Writes `file` in a fresh folder holding `packageJson` (none when undefined); returns the file's path. */
function dagIn(name: string, file: string, packageJson: string | undefined): string {
  const dir = join(root, name);
  mkdirSync(dir);
  if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), packageJson);
  writeFileSync(join(dir, file), DAG_SOURCE);
  return join(dir, file);
}

describe('loadDagsFromFile on a module Node would load as CommonJS', () => {
  const refused: Array<[string, string, string | undefined, RegExp]> = [
    [
      'a .ts file with no package.json above it',
      'dag.ts',
      undefined,
      /no package\.json above it says "type": "module"\), .*create \S+\/no-package\/package\.json containing \{"type": "module"\}, or rename the file to dag\.mts/,
    ],
    [
      'a .ts file whose package.json says "type": "commonjs"',
      'dag.ts',
      '{"type": "commonjs"}',
      /\S+\/commonjs\/package\.json does not say "type": "module"\), .*add "type": "module" to \S+\/commonjs\/package\.json, or rename the file to dag\.mts/,
    ],
    [
      'a .js file whose package.json has no type',
      'dag.js',
      '{"name": "dags"}',
      /untyped\/package\.json does not say "type": "module".*rename the file to dag\.mjs/,
    ],
    ['a .cts file', 'dag.cts', '{"type": "module"}', /a \.cts file is CommonJS.*rename it to dag\.mts/],
  ];
  const folderOf = ['no-package', 'commonjs', 'untyped', 'cts'];

  it.each(refused.map((row, i) => [...row, folderOf[i]!] as const))(
    'refuses %s, saying what to do',
    async (_what, file, packageJson, message, folder) => {
      const path = dagIn(folder, file, packageJson);
      const error = await loadDagsFromFile(path).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(BatutaError);
      expect((error as BatutaError).code).toBe('MODULE_FORMAT');
      expect((error as BatutaError).message).toMatch(message);
      expect((error as BatutaError).message).not.toContain('Cannot redefine property');
    },
  );

  const loaded: Array<[string, string, string | undefined, string]> = [
    ['a .ts file whose package.json says "type": "module"', 'dag.ts', '{"type": "module"}', 'esm-ts'],
    ['a .mts file with no package.json above it', 'dag.mts', undefined, 'mts'],
  ];
  it.each(loaded)('loads %s', async (_what, file, packageJson, folder) => {
    const dags = await loadDagsFromFile(dagIn(folder, file, packageJson));
    expect(dags.map((dag) => dag.id)).toEqual(['from_module']);
  });
});
