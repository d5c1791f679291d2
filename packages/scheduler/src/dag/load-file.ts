// Loads DAGs from any supported file: YAML (.yaml/.yml) or a TypeScript/JavaScript module that
// exports `defineDag(...)` results (default or named exports).
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { BatutaError } from '../errors.js';
import { importModule } from '../operators/builtin.js';
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
  const exports = await importModule(file, { fresh: options.fresh ?? false });
  const dags: DagSpec[] = [];
  for (const value of new Set(Object.values(exports))) {
    if (value instanceof Dag || isDagLike(value)) dags.push({ ...(value as Dag).spec, sourceFile: file });
  }
  if (dags.length === 0) {
    throw new BatutaError('NO_DAG_EXPORTED', `${path}: the module exports no DAG (export the result of defineDag)`);
  }
  return dags;
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
