// The architecture test: fails when a pure folder reaches for I/O or the clock, when a package imports
// against the direction in DESIGN.md, or when one package reaches into another's src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g))
    found.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

const allowedPackages: Record<string, string[]> = {
  scheduler: [],
  orchestrator: ['@batuta/scheduler'],
  'ml-tasks': ['@batuta/scheduler'],
  cli: ['@batuta/scheduler', '@batuta/orchestrator', '@batuta/ml-tasks'],
};

const pureFolders = [
  'packages/scheduler/src/run',
  'packages/scheduler/src/triggers',
  'packages/orchestrator/src/placement',
  'packages/orchestrator/src/resources',
];
const forbiddenInPure = [/^node:/, /^ioredis$/, /^bullmq$/, /^@aws-sdk\//, /^fs$/, /^child_process$/];
const forbiddenCalls = [
  /\bDate\.now\(/,
  /\bnew Date\(\)/,
  /\bsetTimeout\(/,
  /\bsetInterval\(/,
  /\bMath\.random\(/,
  /\bperformance\.now\(/,
];

describe('architecture', () => {
  it('keeps the pure folders free of I/O, timers and the wall clock', () => {
    const violations: string[] = [];
    for (const folder of pureFolders) {
      for (const file of files(join(root, folder))) {
        const rel = relative(root, file);
        for (const spec of imports(file))
          if (forbiddenInPure.some((re) => re.test(spec))) violations.push(`${rel} imports ${spec}`);
        const text = readFileSync(file, 'utf8');
        for (const re of forbiddenCalls) if (re.test(text)) violations.push(`${rel} calls ${re.source}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('imports packages only in the direction of DESIGN.md, and only through their public entry', () => {
    const violations: string[] = [];
    for (const [name, allowed] of Object.entries(allowedPackages)) {
      for (const file of files(join(root, 'packages', name, 'src'))) {
        const rel = relative(root, file);
        for (const spec of imports(file)) {
          if (spec.startsWith('@batuta/') && !allowed.includes(spec)) violations.push(`${rel} imports ${spec}`);
          if (/packages\/[^/]+\/src|\.\.\/\.\.\/\.\.\//.test(spec)) violations.push(`${rel} reaches into ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycle between files of a package', () => {
    const cycles: string[] = [];
    for (const name of Object.keys(allowedPackages)) {
      const graph = new Map<string, string[]>();
      for (const file of files(join(root, 'packages', name, 'src'))) {
        const deps = imports(file)
          .filter((s) => s.startsWith('.'))
          .map((s) => join(file, '..', s.replace(/\.js$/, '.ts')));
        graph.set(file, deps);
      }
      const state = new Map<string, 1 | 2>();
      const visit = (start: string) => {
        const stack: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
        const path = [start];
        state.set(start, 1);
        while (stack.length > 0) {
          const top = stack[stack.length - 1]!;
          const deps = graph.get(top.node) ?? [];
          if (top.next >= deps.length) {
            state.set(top.node, 2);
            stack.pop();
            path.pop();
            continue;
          }
          const dep = deps[top.next++]!;
          if (!graph.has(dep)) continue;
          if (state.get(dep) === 1) {
            cycles.push([...path.slice(path.indexOf(dep)), dep].map((f) => relative(root, f)).join(' → '));
          } else if (!state.has(dep)) {
            state.set(dep, 1);
            stack.push({ node: dep, next: 0 });
            path.push(dep);
          }
        }
      };
      for (const file of graph.keys()) if (!state.has(file)) visit(file);
    }
    expect(cycles).toEqual([]);
  });
});
