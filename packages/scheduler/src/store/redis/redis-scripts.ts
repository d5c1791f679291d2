// The store's Lua scripts, one per atomic transition, kept as files in the package's `lua/` folder
// (`<command>-<number of keys>.lua`, as BullMQ names its commands). Each is defined once per ioredis
// connection with `defineCommand`, which calls EVALSHA and falls back to EVAL when the server does
// not know the script yet (a fresh or restarted Redis). Lua shared by several scripts lives in
// `lua/includes/` and is pasted in where a script says `--- @include "includes/<name>"`.
import { existsSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { resolveLuaIncludes } from './lua-includes.js';

/** Script file names; the number is how many KEYS the script declares. */
const SCRIPT_FILES = {
  createRun: 'createRun-2.lua',
  createRuns: 'createRuns-1.lua',
  applyTransition: 'applyTransition-7.lua',
  listRuns: 'listRuns-1.lua',
  getRunCells: 'getRunCells-0.lua',
  getTaskTries: 'getTaskTries-2.lua',
  pruneRuns: 'pruneRuns-1.lua',
  acquireLease: 'acquireLease-1.lua',
  advanceCursor: 'advanceCursor-1.lua',
  releaseLease: 'releaseLease-1.lua',
  registerDags: 'registerDags-2.lua',
} as const;

type ScriptName = keyof typeof SCRIPT_FILES;

/** Command names on the connection, prefixed so they cannot clash with the caller's own commands. */
const COMMAND_PREFIX = 'batuta_';

/** One argument, or a list that ioredis flattens into the command (no huge spread of arguments). */
type Argument = string | number | Array<string | number>;

/** The store's scripts as callable commands: KEYS first, then ARGV. */
export interface RedisStoreScripts {
  createRun(...args: Argument[]): Promise<unknown>;
  createRuns(...args: Argument[]): Promise<unknown>;
  applyTransition(...args: Argument[]): Promise<unknown>;
  listRuns(...args: Argument[]): Promise<unknown>;
  getRunCells(...args: Argument[]): Promise<unknown>;
  getTaskTries(...args: Argument[]): Promise<unknown>;
  pruneRuns(...args: Argument[]): Promise<unknown>;
  acquireLease(...args: Argument[]): Promise<unknown>;
  advanceCursor(...args: Argument[]): Promise<unknown>;
  releaseLease(...args: Argument[]): Promise<unknown>;
  registerDags(...args: Argument[]): Promise<unknown>;
}

interface LoadedScript {
  lua: string;
  numberOfKeys: number;
}

let loaded: Map<ScriptName, LoadedScript> | undefined;

/** The package's `lua/` folder; `src/store/redis` and `dist/store/redis` sit equally deep. */
const LUA_FOLDER = new URL('../../../lua/', import.meta.url);

/** Reads one script file of `lua/` with its includes resolved: the text Redis runs. */
export function readStoreScript(file: string): string {
  const lua = readFileSync(new URL(file, LUA_FOLDER), 'utf8');
  return resolveLuaIncludes(file, lua, (path) => {
    const url = new URL(`${path}.lua`, LUA_FOLDER);
    return existsSync(url) ? readFileSync(url, 'utf8') : undefined;
  });
}

/** Reads the script files once per process. */
function loadScripts(): Map<ScriptName, LoadedScript> {
  if (loaded) return loaded;
  const scripts = new Map<ScriptName, LoadedScript>();
  for (const [name, file] of Object.entries(SCRIPT_FILES) as Array<[ScriptName, string]>) {
    const lua = readStoreScript(file);
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)![1]);
    scripts.set(name, { lua, numberOfKeys });
  }
  loaded = scripts;
  return scripts;
}

type CommandFunction = (...args: Argument[]) => Promise<unknown>;

/** Defines the scripts on a connection (idempotent) and returns them as functions. */
export function defineStoreScripts(redis: Redis): RedisStoreScripts {
  const commands = redis as unknown as Record<string, CommandFunction | undefined>;
  const bind = (name: ScriptName): CommandFunction => {
    const command = `${COMMAND_PREFIX}${name}`;
    if (typeof commands[command] !== 'function') redis.defineCommand(command, loadScripts().get(name)!);
    const fn = commands[command]!;
    return (...args) => fn.apply(redis, args);
  };
  return {
    createRun: bind('createRun'),
    createRuns: bind('createRuns'),
    applyTransition: bind('applyTransition'),
    listRuns: bind('listRuns'),
    getRunCells: bind('getRunCells'),
    getTaskTries: bind('getTaskTries'),
    pruneRuns: bind('pruneRuns'),
    acquireLease: bind('acquireLease'),
    advanceCursor: bind('advanceCursor'),
    releaseLease: bind('releaseLease'),
    registerDags: bind('registerDags'),
  };
}
