// The built-in operators: `empty` (Airflow's EmptyOperator), `shell` (runs a command) and `module`
// (calls an exported function of a JS/TS file).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { TaskContext } from '../dag/model.js';
import { BatutaError } from '../errors.js';
import { LineSplitter } from '../logs/line-splitter.js';
import { ES_MODULE_MARKER } from './es-module-hook.js';
import { superviseProcessGroup } from './process-group-supervisor.js';
import { defineOperator, OperatorRegistry } from './registry.js';

/** Does nothing and succeeds; useful for start/end markers and joins. */
export const emptyOperator = defineOperator({
  name: 'empty',
  description: 'Does nothing (a start, end or join marker).',
  args: z.object({}).strict(),
  resources: { cpu: 0, memoryMb: 0 },
  run: () => undefined,
});

const shellArgs = z
  .object({
    command: z.string().min(1).describe('The command line, run by /bin/sh -c'),
    env: z
      .record(z.string(), z.string())
      .optional()
      .describe("Environment variables the command needs (the worker's own BATUTA_* settings are not passed on)"),
    cwd: z.string().optional().describe('Working directory (relative to the DAG file when loaded from one)'),
    output: z.enum(['none', 'last-line', 'stdout', 'json']).default('last-line').describe('What the task returns'),
  })
  .strict();

/**
 * Runs a shell command. Fails when the exit code is not 0 (the message carries the tail of stderr).
 * The run's context is in the environment: BATUTA_DAG_ID, BATUTA_RUN_ID, BATUTA_TASK_ID, BATUTA_TRY_NUMBER,
 * BATUTA_MAP_INDEX, BATUTA_MAP_ITEM (JSON, mapped instances), BATUTA_LOGICAL_DATE (ISO), BATUTA_PARAMS_FILE
 * (a file holding the params as JSON, always) and BATUTA_PARAMS (the same JSON, when it is at most 32 KiB).
 * The worker's own BATUTA_* settings (its Redis URL and password among them) are not inherited: a task
 * declares what it needs in `env`. The command's process group dies with the worker (a watchdog).
 */
export const shellOperator = defineOperator({
  name: 'shell',
  description: 'Runs a command with /bin/sh -c; returns the last line of stdout by default.',
  args: shellArgs,
  run: (context, args) => runShell(context, args),
});

/**
 * The largest params JSON also passed inline as BATUTA_PARAMS. Linux caps one environment string at
 * 128 KiB and the whole environment with the arguments at about 2 MiB: past that, spawn fails with E2BIG.
 */
export const INLINE_PARAMS_MAX_BYTES = 32 * 1024;

/** Writes the params where the command can read them; `remove` deletes the file once the command ended. */
async function paramsFile(json: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'batuta-params-'));
  const path = join(dir, 'params.json');
  await writeFile(path, json, { mode: 0o600 });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function runShell(context: TaskContext, args: z.infer<typeof shellArgs>): Promise<unknown> {
  const paramsJson = JSON.stringify(context.params);
  const params = await paramsFile(paramsJson);
  try {
    return await runShellWith(context, args, paramsJson, params.path);
  } finally {
    await params.remove();
  }
}

async function runShellWith(
  context: TaskContext,
  args: z.infer<typeof shellArgs>,
  paramsJson: string,
  paramsPath: string,
): Promise<unknown> {
  const child = spawn('/bin/sh', ['-c', args.command], {
    cwd: args.cwd && context.dagFile ? resolve(dirname(context.dagFile), args.cwd) : args.cwd,
    env: {
      ...withoutBatutaSettings(process.env),
      ...args.env,
      BATUTA_DAG_ID: context.dagId,
      BATUTA_RUN_ID: context.runId,
      BATUTA_TASK_ID: context.taskId,
      BATUTA_TRY_NUMBER: String(context.tryNumber),
      BATUTA_MAP_INDEX: String(context.mapIndex),
      BATUTA_LOGICAL_DATE: new Date(context.logicalDateMs).toISOString(),
      BATUTA_PARAMS_FILE: paramsPath,
      // Bytes, not characters: the kernel's limit is on bytes. Undefined drops one inherited from this process.
      BATUTA_PARAMS: Buffer.byteLength(paramsJson) <= INLINE_PARAMS_MAX_BYTES ? paramsJson : undefined,
      ...(context.item === undefined ? {} : { BATUTA_MAP_ITEM: JSON.stringify(context.item) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a timeout or cancel stops the command's children too (`sh -c 'sleep 30'`
    // would otherwise leave `sleep` holding the pipes, and the attempt, open).
    detached: true,
  });
  // Being in its own group also means the command would outlive a killed worker and overlap the retry.
  const supervisor = child.pid === undefined ? undefined : superviseProcessGroup(child.pid);
  const stop = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  if (context.signal.aborted) stop();
  context.signal.addEventListener('abort', stop, { once: true });
  // stdout is kept whole only when the task returns it; otherwise its last line (for `last-line`).
  const keepStdout = args.output === 'stdout' || args.output === 'json';
  let stdout = '';
  let lastStdoutLine = '';
  let stderrTail: string[] = [];
  const stdoutLines = new LineSplitter((line) => {
    if (line.trim()) lastStdoutLine = line;
    context.log(line, 'stdout');
  });
  const stderrLines = new LineSplitter((line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail = stderrTail.slice(-5);
    context.log(line, 'stderr');
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (keepStdout) stdout += chunk;
    stdoutLines.push(chunk);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderrLines.push(chunk));
  child.stdout.once('end', () => stdoutLines.end());
  child.stderr.once('end', () => stderrLines.end());
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.once('error', (error) => (context.signal.aborted ? resolvePromise(null) : reject(error)));
    child.once('close', (exitCode) => resolvePromise(exitCode));
  }).finally(() => {
    context.signal.removeEventListener('abort', stop);
    supervisor?.release();
  });
  if (context.signal.aborted) throw context.signal.reason ?? new Error('aborted');
  if (code !== 0) {
    const tail = stderrTail.join('\n').trim().split('\n').slice(-5).join('\n');
    throw new BatutaError('SHELL_EXIT', `command exited with code ${code}: ${args.command}${tail ? `\n${tail}` : ''}`);
  }
  switch (args.output) {
    case 'none':
      return undefined;
    case 'stdout':
      return stdout;
    case 'json':
      return JSON.parse(stdout);
    default:
      return lastStdoutLine.trimEnd();
  }
}

/** The worker's environment without its BATUTA_* settings, which may carry credentials. */
function withoutBatutaSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('BATUTA_')));
}

const moduleArgs = z
  .object({
    path: z.string().min(1).describe('A .js/.mjs/.ts file, relative to the DAG file when loaded from one'),
    export: z.string().default('default').describe('The exported function to call with the task context'),
    args: z.unknown().optional().describe('Passed as the second argument'),
  })
  .strict();

/** Imports a file and calls one of its exported functions with (context, args); returns its result. */
export const moduleOperator = defineOperator({
  name: 'module',
  description: 'Calls an exported function of a JS/TS file with the task context.',
  args: moduleArgs,
  run: async (context, args) => {
    const base = context.dagFile ? dirname(context.dagFile) : process.cwd();
    const file = isAbsolute(args.path) ? args.path : resolve(base, args.path);
    const imported = await importModule(file);
    const fn = imported[args.export];
    if (typeof fn !== 'function') {
      throw new BatutaError(
        'MODULE_EXPORT',
        `${file} has no exported function '${args.export}' (exports: ${Object.keys(imported).join(', ') || 'none'})`,
      );
    }
    return fn(context, args.args);
  },
});

/**
 * Imports JS directly and TypeScript through tsx, when it is installed. `esModule` loads the file as an ES
 * module even where Node would load it as CommonJS (see es-module-hook.ts).
 */
export async function importModule(
  file: string,
  options: { fresh?: boolean; esModule?: boolean } = {},
): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file);
  // A query string makes the module loader treat a changed file as a new module (hot reload).
  if (options.fresh) url.searchParams.set('v', String(Date.now()));
  if (options.esModule) url.searchParams.set(ES_MODULE_MARKER, 'module');
  const href = url.href;
  if (/\.(c|m)?ts$/.test(file)) {
    const tsx = (await import('tsx/esm/api').catch(() => undefined)) as
      | { tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>> }
      | undefined;
    if (!tsx) throw new BatutaError('MODULE_TS', `cannot import ${file}: install 'tsx' to load TypeScript files`);
    return tsx.tsImport(href, import.meta.url);
  }
  return (await import(href)) as Record<string, unknown>;
}

/** A registry holding the built-in operators; add your own with `register`. */
export function createOperatorRegistry(): OperatorRegistry {
  return new OperatorRegistry().register(emptyOperator).register(shellOperator).register(moduleOperator);
}
