// The architecture test: fails when a pure folder reaches for I/O or the clock, when a package imports
// against the direction in DESIGN.md, when one package reaches into another's src/, or when test code
// (package tests, end-to-end tests, benchmarks) does so or imports the CLI. The rules for test code live
// in import-rules.ts and are checked on fixtures first, so a scanner that finds nothing is noticed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, packageOf, testImportViolations } from './import-rules.js';

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
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

function imports(file: string): string[] {
  return importSpecifiers(readFileSync(file, 'utf8'));
}

/** A path relative to the repository root, with `/` whatever the platform. */
const fromRoot = (file: string) => relative(root, file).split(sep).join('/');

const allowedPackages: Record<string, string[]> = {
  scheduler: [],
  testing: ['@batuta/scheduler'],
  orchestrator: ['@batuta/scheduler'],
  'ml-tasks': ['@batuta/scheduler'],
  web: ['@batuta/scheduler', '@batuta/orchestrator', '@batuta/ml-tasks'],
  cli: ['@batuta/scheduler', '@batuta/orchestrator', '@batuta/ml-tasks', '@batuta/web'],
};

const pureFolders = [
  'packages/scheduler/src/run',
  'packages/scheduler/src/triggers',
  'packages/scheduler/src/util',
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
          if (spec.startsWith('@batuta/') && !allowed.includes(packageOf(spec)))
            violations.push(`${rel} imports ${spec}`);
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
  it("keeps test code and benchmarks out of other packages' src/ and away from the CLI", () => {
    const testCode = [
      ...Object.keys(allowedPackages).flatMap((name) => files(join(root, 'packages', name, 'test'))),
      // test/architecture holds deliberate violations as fixture strings; it imports nothing of ours.
      ...files(join(root, 'test')).filter((file) => !fromRoot(file).startsWith('test/architecture/')),
      ...files(join(root, 'bench')),
      ...files(join(root, 'examples')),
    ];
    expect(testCode.length).toBeGreaterThan(50);
    const violations = testCode.flatMap((file) =>
      testImportViolations({ path: fromRoot(file), text: readFileSync(file, 'utf8') }),
    );
    expect(violations).toEqual([]);
  });

  it('shows users only the public entries: examples never import an internals subpath', () => {
    const examples = files(join(root, 'examples'));
    expect(examples.length).toBeGreaterThan(0);
    const internal = examples.flatMap((file) =>
      imports(file)
        .filter((specifier) => /^@batuta\/[^/]+\/internals$/.test(specifier))
        .map((specifier) => `${fromRoot(file)} imports ${specifier}`),
    );
    expect(internal).toEqual([]);
  });

  it('keeps internals out of the root entries: stream names, lease keys and the compiled plan are subpath exports', () => {
    const rootEntry = (name: string) => readFileSync(join(root, 'packages', name, 'src', 'index.ts'), 'utf8');
    for (const name of ['CONTROL_STREAM', 'runLease', 'schedulerLease', 'compilePlan', 'redisStoreClientOptions']) {
      expect(rootEntry('scheduler')).not.toMatch(new RegExp(`\\b${name}\\b`));
    }
    for (const name of ['poolQueuePrefix', 'cancelChannel', 'BULLMQ_CHECKED_VERSION']) {
      expect(rootEntry('orchestrator')).not.toMatch(new RegExp(`\\b${name}\\b`));
    }
  });

  it("keeps @batuta/testing private and out of every published package's dependencies", () => {
    const manifest = (name: string) =>
      JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as {
        private?: boolean;
        dependencies?: Record<string, string>;
      };
    expect(manifest('testing').private).toBe(true);
    const dependents = Object.keys(allowedPackages).filter(
      (name) => name !== 'testing' && '@batuta/testing' in (manifest(name).dependencies ?? {}),
    );
    expect(dependents).toEqual([]);
  });
});

describe('the test-code import rules (on fixtures, so a blind scanner fails here)', () => {
  const check = (path: string, text: string) => testImportViolations({ path, text });

  it.each([
    [
      'a package test importing its own src',
      'packages/ml-tasks/test/io/csv.test.ts',
      "import { x } from '../../src/index.js';",
    ],
    [
      'a test importing a package by name',
      'test/e2e/a.test.ts',
      "import { RedisStateStore } from '@batuta/scheduler';",
    ],
    [
      'a test importing a subpath export',
      'bench/a.ts',
      "import { RedisServer } from '@batuta/scheduler/redis-server';",
    ],
    ['the test support package', 'test/e2e/a.test.ts', "import { useRedisServer } from '@batuta/testing';"],
    ['the CLI testing itself', 'packages/cli/test/main.test.ts', "import { main } from '@batuta/cli';"],
    [
      'a helper of its own tests',
      'packages/orchestrator/test/bullmq/a.test.ts',
      "import { pool } from './harness.js';",
    ],
  ])('allows %s', (_, path, text) => {
    expect(check(path, text)).toEqual([]);
  });

  it.each([
    [
      "another package's src by relative path",
      'packages/orchestrator/test/a.test.ts',
      "import { RunCoordinator } from '../../scheduler/src/run/run-coordinator.js';",
      'reaches into packages/scheduler/src/run/run-coordinator.js',
    ],
    [
      "a package's src from an end-to-end test",
      'test/e2e/a.test.ts',
      "import type { DagRunRecord } from '../../packages/scheduler/src/store/state-store.js';",
      'reaches into packages/scheduler/src/store/state-store.js',
    ],
    [
      "a package's built dist from a benchmark",
      'bench/a.ts',
      "const m = await import('../packages/ml-tasks/dist/index.js');",
      'reaches into packages/ml-tasks/dist/index.js',
    ],
    [
      'a deep import past the exports map',
      'bench/a.ts',
      "import { x } from '@batuta/orchestrator/src/bullmq/bullmq-executor.js';",
      'reaches into @batuta/orchestrator/src',
    ],
    ['the CLI from a test', 'test/e2e/a.test.ts', "import { main } from '@batuta/cli';", 'imports @batuta/cli'],
    [
      'the CLI from the test support package',
      'packages/testing/test/a.test.ts',
      "export { main } from '@batuta/cli';",
      'imports @batuta/cli',
    ],
    ['the CLI by a side-effect import', 'bench/a.ts', "import '@batuta/cli';", 'imports @batuta/cli'],
    [
      "the CLI's source from another package's test",
      'packages/ml-tasks/test/a.test.ts',
      "import { RedisServer } from '../../cli/src/redis-server.js';",
      'reaches into packages/cli/src/redis-server.js',
    ],
  ])('refuses %s', (_, path, text, expected) => {
    const violations = check(path, text);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain(path);
    expect(violations[0]).toContain(expected);
  });

  it('reads multi-line, type-only and dynamic imports', () => {
    const text = [
      'import {',
      '  a,',
      '  type B,',
      "} from '@batuta/cli';",
      "import type { C } from '../../scheduler/src/c.js';",
      "const d = await import('@batuta/cli');",
    ].join('\n');
    expect(check('packages/orchestrator/test/a.test.ts', text)).toHaveLength(3);
  });
});
