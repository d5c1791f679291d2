// Loads DAGs from any supported file: YAML (.yaml/.yml) or a TypeScript/JavaScript module that
// exports `defineDag(...)` results (default or named exports).
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { BatutaError } from '../errors.js';
import { importModule } from '../operators/builtin.js';
import { registerEsModuleHook } from '../operators/es-module-hook.js';
import { Dag } from './define-dag.js';
import type { DagSpec } from './model.js';
import { type LoadOptions, loadDagFile } from './yaml-loader.js';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** Loads every DAG a file defines (a YAML file holds one; a module may export several). */
export async function loadDagsFromFile(
  path: string,
  options: LoadOptions & { fresh?: boolean } = {},
): Promise<DagSpec[]> {
  const file = resolve(path);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new BatutaError('FILE_NOT_FOUND', `${path}: no such file`);
  const extension = extname(file).toLowerCase();
  if (extension === '.yaml' || extension === '.yml') {
    return [await loadDagFile(file, options.operators ? { operators: options.operators } : {})];
  }
  if (!MODULE_EXTENSIONS.has(extension)) {
    throw new BatutaError('UNSUPPORTED_FILE', `${path}: expected a .yaml, .yml, .ts or .js DAG file`);
  }
  const esModule = await needsEsModuleHook(file, extension);
  const exports = await importModule(file, { fresh: options.fresh ?? false, esModule });
  const dags: DagSpec[] = [];
  for (const value of new Set(Object.values(exports))) {
    if (value instanceof Dag || isDagLike(value)) dags.push({ ...(value as Dag).spec, sourceFile: path });
  }
  if (dags.length === 0) {
    throw new BatutaError('NO_DAG_EXPORTED', `${path}: the module exports no DAG (export the result of defineDag)`);
  }
  return dags;
}

/**
 * True when Node would load the module as CommonJS (no `"type": "module"` in the nearest package.json, or
 * none), so it must be loaded as an ES module by the hook: a CommonJS DAG `require`s @batuta/scheduler, an
 * ES module, which Node 20 cannot do (tsx's stand-in fails on CommonJS packages the scheduler uses, with
 * "Cannot redefine property: default"). A .cts/.cjs file is CommonJS by name, and without the hook (Node
 * before 20.6) such a file is refused before any of its code runs; the message says what to do.
 */
async function needsEsModuleHook(file: string, extension: string): Promise<boolean> {
  if (extension === '.mts' || extension === '.mjs') return false;
  const esName = extension.endsWith('ts') ? '.mts' : '.mjs';
  const renamed = `${basename(file, extname(file))}${esName}`;
  if (extension === '.cts' || extension === '.cjs') {
    throw new BatutaError(
      'MODULE_FORMAT',
      `a ${extension} file is CommonJS, and a DAG module must be an ES module to import @batuta/scheduler; rename it to ${renamed}`,
    );
  }
  const scope = await nearestPackageJson(dirname(file));
  if (scope?.type === 'module') return false;
  if (registerEsModuleHook()) return true;
  const why = scope ? `${scope.file} does not say "type": "module"` : 'no package.json above it says "type": "module"';
  const fix = scope
    ? `add "type": "module" to ${scope.file}`
    : `create ${join(dirname(file), 'package.json')} containing {"type": "module"}`;
  throw new BatutaError(
    'MODULE_FORMAT',
    `Node loads this file as CommonJS (${why}), and a DAG module must be an ES module to import @batuta/scheduler; ${fix}, or rename the file to ${renamed}`,
  );
}

/** The package.json that decides how Node loads files in `dir` (the nearest one), and its `type`. */
async function nearestPackageJson(dir: string): Promise<{ file: string; type: unknown } | undefined> {
  for (let folder = dir; ; folder = dirname(folder)) {
    const file = join(folder, 'package.json');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      try {
        return { file, type: (JSON.parse(text) as { type?: unknown }).type };
      } catch {
        return { file, type: undefined };
      }
    }
    if (dirname(folder) === folder) return undefined;
  }
}

// A Dag from another copy of this package (e.g. examples resolving their own node_modules).
function isDagLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    value.constructor?.name === 'Dag' &&
    'spec' in value &&
    typeof (value as { task?: unknown }).task === 'function'
  );
}
