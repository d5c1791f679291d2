import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));
// Exact matches: a bare prefix alias would also rewrite a subpath such as '@batuta/scheduler/redis-server'.
const entry = (find: string, path: string) => ({ find: new RegExp(`^${find}$`), replacement: source(path) });

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, so `npm test` needs no build step.
    alias: [
      entry('@batuta/scheduler', 'scheduler/src/index.ts'),
      entry('@batuta/scheduler/redis-server', 'scheduler/src/store/redis/redis-server.ts'),
      entry('@batuta/scheduler/internals', 'scheduler/src/internals.ts'),
      entry('@batuta/testing', 'testing/src/index.ts'),
      entry('@batuta/orchestrator', 'orchestrator/src/index.ts'),
      entry('@batuta/orchestrator/internals', 'orchestrator/src/internals.ts'),
      entry('@batuta/ml-tasks', 'ml-tasks/src/index.ts'),
      entry('@batuta/ml-tasks/internals', 'ml-tasks/src/internals.ts'),
      entry('@batuta/web', 'web/src/index.ts'),
      entry('@batuta/cli', 'cli/src/index.ts'),
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
