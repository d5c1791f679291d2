// `npm run test:pack`: what a user gets from the registry. Packs every public workspace package (their
// prepack builds them), installs the tarballs into a fresh temporary project, type-checks a TypeScript
// DAG there against the shipped declarations, runs it with runDag, runs it again through the installed
// `batuta` binary (TypeScript through the optional tsx peer), runs `batuta demo` from the installed CLI,
// and imports the exported JSON schema. Third-party dependencies come from the npm cache when it has them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const keep = process.argv.includes('--keep');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  workspaces?: string[];
  devDependencies?: Record<string, string>;
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

function run(command: string, args: string[], cwd: string): string {
  const started = performance.now();
  console.log(`$ ${command} ${args.join(' ')}`);
  let output: string;
  try {
    output = execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    throw new Error(
      `pack test: '${command} ${args.join(' ')}' failed:\n${(error as { stdout?: string }).stdout ?? ''}`,
    );
  }
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return output;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`pack test: ${message}`);
}

const workspace = readManifest(root);
const packages = (workspace.workspaces ?? []).map((dir) => ({ dir, manifest: readManifest(join(root, dir)) }));
const published = packages.filter((p) => !p.manifest.private);
check(
  packages.some((p) => p.manifest.private && p.manifest.name === '@batuta/testing'),
  '@batuta/testing should be a private workspace package',
);

const work = mkdtempSync(join(tmpdir(), 'batuta-pack-'));
try {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packArgs = ['pack', '--pack-destination', tarballs, ...published.flatMap((p) => ['-w', p.dir])];
  run('npm', packArgs, root);
  const files = readdirSync(tarballs).filter((file) => file.endsWith('.tgz'));
  check(files.length === published.length, `expected ${published.length} tarballs, got ${files.join(', ')}`);
  check(!files.some((file) => file.includes('testing')), 'the private @batuta/testing was packed');

  for (const file of files) {
    const listing = run('tar', ['-tzf', join(tarballs, file)], work).split('\n');
    for (const needed of ['package/LICENSE', 'package/README.md', 'package/package.json', 'package/dist/index.js']) {
      check(listing.includes(needed), `${file} lacks ${needed}`);
    }
    if (file.startsWith('batuta-scheduler-')) {
      check(listing.includes('package/schema/dag.schema.json'), `${file} lacks the JSON schema`);
    }
    if (file.startsWith('batuta-web-')) {
      // The UI ships prebuilt (prepack runs vite build): users need no build step.
      check(listing.includes('package/dist/ui/index.html'), `${file} lacks the built UI`);
      check(
        listing.some((entry) => /^package\/dist\/ui\/assets\/.+\.js$/.test(entry)),
        `${file} lacks the UI's script`,
      );
    }
    if (file.startsWith('batuta-cli-')) {
      check(listing.includes('package/demo/iris-batch/dag.yaml'), `${file} lacks the demo DAG`);
      check(listing.includes('package/demo/iris-batch/data/model.json'), `${file} lacks the demo data`);
    }
  }

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-test-app', private: true, type: 'module' }));
  const dev = workspace.devDependencies ?? {};
  const tools = ['typescript', 'tsx', '@types/node'].map((name) => `${name}@${dev[name]}`);
  const zod = JSON.parse(readFileSync(join(root, 'packages/scheduler/package.json'), 'utf8')).dependencies
    .zod as string;
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...files.map((file) => join(tarballs, file)),
      ...tools,
      `zod@${zod}`,
    ],
    app,
  );

  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        // As in Batuta's own tsconfig: ioredis's declarations import an untyped module.
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['*.ts'],
    }),
  );
  writeFileSync(
    join(app, 'dag.ts'),
    `import { defineDag } from '@batuta/scheduler';
import { z } from 'zod';

export const squares = defineDag(
  { id: 'squares', params: z.object({ count: z.number().int().min(1).default(3) }) },
  (dag) => {
    const numbers = dag.task('numbers', { run: ({ params }) => Array.from({ length: params.count }, (_, i) => i + 1) });
    const square = dag.map('square', { upstream: [numbers], over: { n: numbers }, run: ({ item }) => item.n * item.n });
    const pick = dag.branch('pick', {
      upstream: [square],
      targets: ['sum', 'none'],
      run: ({ inputs }) => (inputs.square.length > 0 ? 'sum' : 'none'),
    });
    const sum = dag.task('sum', { upstream: [pick, square], run: ({ inputs }) => inputs.square.reduce((a, b) => a + b, 0) });
    const none = dag.task('none', { upstream: [pick], run: () => 0 });
    return [numbers, square, sum, none];
  },
);
`,
  );
  writeFileSync(
    join(app, 'main.ts'),
    `import { runDag } from '@batuta/orchestrator';
import { squares } from './dag.js';

const result = await runDag(squares, { conf: { count: 4 } });
const total: number | undefined = result.outputs.sum;
// @ts-expect-error: count is a number
void (() => runDag(squares, { conf: { count: 'four' } }));
// @ts-expect-error: no task 'summ'
void result.outputs.summ;
console.log(JSON.stringify({ state: result.state, total, square: result.outputs.square }));
`,
  );
  run(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], app);
  const printed = JSON.parse(run(process.execPath, ['--import', 'tsx', 'main.ts'], app).trim()) as {
    state: string;
    total: number;
    square: number[];
  };
  check(printed.state === 'success' && printed.total === 30, `runDag printed ${JSON.stringify(printed)}`);

  const batuta = join(app, 'node_modules/.bin/batuta');
  const tested = run(batuta, ['dags', 'test', 'dag.ts', '--conf', '{"count": 2}'], app);
  check(/__squares__\S+: success/.test(tested), `batuta dags test did not succeed:\n${tested}`);
  const predictions = join(app, 'predictions.csv');
  run(batuta, ['demo', '--predictions', `file:${predictions}`], app);
  check(
    existsSync(predictions) && readFileSync(predictions, 'utf8').includes('setosa'),
    'the demo wrote no predictions',
  );

  const schema = run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const s = await import('@batuta/scheduler/schema/dag.schema.json', { with: { type: 'json' } }); console.log(s.default.$id ?? s.default.title ?? 'ok');",
    ],
    app,
  );
  check(schema.trim().length > 0, 'the JSON schema did not import');
  console.log(`pack test passed: ${files.join(', ')} install, type-check and run in a fresh project`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
