// prepack: puts the iris example's DAG and its small data into the package, so `batuta demo` runs from an
// installed CLI (in a checkout it reads examples/iris-batch directly).
import { cpSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(packageDir, '../../examples/iris-batch');
const target = resolve(packageDir, 'demo/iris-batch');
rmSync(target, { recursive: true, force: true });
for (const entry of ['dag.yaml', 'data', 'README.md'])
  cpSync(resolve(source, entry), resolve(target, entry), { recursive: true });
