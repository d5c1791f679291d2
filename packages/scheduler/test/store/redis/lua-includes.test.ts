// The include step of the Lua script loader, without a server: includes are pasted once, nested
// includes resolve, mistakes name the script; and the shipped scripts resolve completely.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatutaError } from '../../../src/errors.js';
import { resolveLuaIncludes } from '../../../src/store/redis/lua-includes.js';
import { readStoreScript } from '../../../src/store/redis/redis-scripts.js';

const library = (files: Record<string, string>) => (path: string) => files[path];

function thrown(run: () => unknown): BatutaError {
  try {
    run();
  } catch (error) {
    if (error instanceof BatutaError) return error;
    throw error;
  }
  throw new Error('expected a BatutaError');
}

describe('resolveLuaIncludes', () => {
  it('leaves a script without includes unchanged', () => {
    const lua = "-- a comment\nlocal x = 1\nreturn redis.call('GET', KEYS[1])\n";
    expect(resolveLuaIncludes('plain-1.lua', lua, library({}))).toBe(lua);
  });

  it('replaces an include line with the included file', () => {
    const lua = '--[[ header ]]\n--- @include "includes/one"\n\nreturn one()\n';
    const resolved = resolveLuaIncludes(
      'a-0.lua',
      lua,
      library({ 'includes/one': 'local function one() return 1 end\n' }),
    );
    expect(resolved).toBe('--[[ header ]]\nlocal function one() return 1 end\n\nreturn one()\n');
  });

  it('resolves nested includes and pastes an include shared by two others once, before its users', () => {
    const lua = '--- @include "includes/left"\n--- @include "includes/right"\nreturn left() + right()\n';
    const resolved = resolveLuaIncludes(
      'diamond-0.lua',
      lua,
      library({
        'includes/left': '--- @include "includes/base"\nlocal function left() return base() end',
        'includes/right': '--- @include "includes/base"\nlocal function right() return base() end',
        'includes/base': 'local function base() return 1 end',
      }),
    );
    expect(resolved).toBe(
      [
        'local function base() return 1 end',
        'local function left() return base() end',
        'local function right() return base() end',
        'return left() + right()',
        '',
      ].join('\n'),
    );
  });

  it('pastes an include named twice in one script once', () => {
    const lua = '--- @include "includes/one"\n--- @include "includes/one"\nreturn one()';
    const resolved = resolveLuaIncludes('twice-0.lua', lua, library({ 'includes/one': 'local function one() end' }));
    expect(resolved).toBe('local function one() end\nreturn one()');
  });

  it('refuses an unknown include, naming the script, the line and the file it looked for', () => {
    const error = thrown(() =>
      resolveLuaIncludes('createRun-2.lua', '-- header\n--- @include "includes/missing"\n', library({})),
    );
    expect(error.code).toBe('LUA_INCLUDE');
    expect(error.message).toContain('createRun-2.lua line 2');
    expect(error.message).toContain('unknown include "includes/missing"');
    expect(error.message).toContain('lua/includes/missing.lua');
  });

  it('names the chain of includes when a nested include is unknown', () => {
    const error = thrown(() =>
      resolveLuaIncludes(
        's-1.lua',
        '--- @include "includes/a"',
        library({ 'includes/a': '--- @include "includes/b"' }),
      ),
    );
    expect(error.message).toContain('s-1.lua → includes/a line 1');
    expect(error.message).toContain('"includes/b"');
  });

  it('refuses an include cycle instead of recursing', () => {
    const error = thrown(() =>
      resolveLuaIncludes(
        'cycle-0.lua',
        '--- @include "includes/a"',
        library({ 'includes/a': '--- @include "includes/b"', 'includes/b': '--- @include "includes/a"' }),
      ),
    );
    expect(error.message).toContain('includes itself (includes/a → includes/b → includes/a)');
  });

  it.each([
    ['no quotes', '--- @include includes/a'],
    ['a file extension', '--- @include "includes/a.lua"'],
    ['a path that leaves lua/', '--- @include "../secret"'],
    ['text after the path', '--- @include "includes/a" -- why'],
  ])('refuses a malformed include line (%s)', (_, line) => {
    const error = thrown(() => resolveLuaIncludes('bad-0.lua', `${line}\n`, library({ 'includes/a': '' })));
    expect(error.code).toBe('LUA_INCLUDE');
    expect(error.message).toContain('bad-0.lua line 1: malformed include');
  });
});

describe('the store scripts as shipped', () => {
  const scripts = readdirSync(new URL('../../../lua/', import.meta.url)).filter((file) => file.endsWith('.lua'));

  it('has scripts to check', () => {
    expect(scripts).toContain('createRun-2.lua');
  });

  it.each(scripts)('%s resolves with no include line left and each shared function defined once', (file) => {
    const lua = readStoreScript(file);
    expect(lua).not.toMatch(/@include/);
    const definitions = [...lua.matchAll(/^local function (\w+)/gm)].map((match) => match[1]);
    expect(new Set(definitions).size).toBe(definitions.length);
  });

  it.each([
    ['createRun-2.lua', ['indexNewRun', 'runsByStateKey']],
    ['createRuns-1.lua', ['indexNewRun', 'runsByDagKey']],
    ['applyTransition-7.lua', ['reindexRun', 'runsByDagAndStateKey']],
    ['listRuns-1.lua', ['runsByStateKey', 'runsByDagKey', 'runsByDagAndStateKey']],
  ])('%s carries the run-index Lua it uses', (file, functions) => {
    const lua = readStoreScript(file);
    for (const name of functions) expect(lua).toContain(`local function ${name}(`);
  });
});
