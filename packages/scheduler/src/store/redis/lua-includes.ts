// The include step of the Lua script loader, as BullMQ has for its `src/commands/includes/`: a line
// `--- @include "includes/indexRun"` (a Lua comment, so an unresolved script still parses) is replaced
// by the file `lua/includes/indexRun.lua`, itself resolved the same way. Redis runs one self-contained
// text per script, so the shared Lua is pasted in at load time rather than required at run time.
import { BatutaError } from '../../errors.js';

/** A line that asks for an include; anything else starting `--- @include` is a mistake we report. */
const INCLUDE_LINE = /^--- @include "((?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]+)"[ \t]*$/;
const INCLUDE_MARK = /^---[ \t]*@include\b/;

/** Reads an include by its path below the `lua/` folder, without `.lua`; undefined when absent. */
export type LuaIncludeReader = (path: string) => string | undefined;

/**
 * Replaces every `--- @include "<path>"` line of `script` with the (resolved) include. Each include
 * is pasted once per script, at its first mention, so two includes may share a third; a cycle, an
 * unknown include or a malformed include line is a `LUA_INCLUDE` error naming the script.
 */
export function resolveLuaIncludes(scriptName: string, lua: string, readInclude: LuaIncludeReader): string {
  const pasted = new Set<string>();

  const resolve = (text: string, chain: readonly string[]): string => {
    const lines = text.split('\n');
    const out: string[] = [];
    for (const [index, line] of lines.entries()) {
      const where = () => `${[scriptName, ...chain].join(' → ')} line ${index + 1}`;
      const mark = INCLUDE_MARK.test(line);
      const match = INCLUDE_LINE.exec(line.replace(/\r$/, ''));
      if (!mark) {
        out.push(line);
        continue;
      }
      if (!match) {
        throw new BatutaError(
          'LUA_INCLUDE',
          `Lua script ${where()}: malformed include '${line.trim()}'; write --- @include "includes/<name>"`,
        );
      }
      const path = match[1]!;
      if (chain.includes(path)) {
        throw new BatutaError(
          'LUA_INCLUDE',
          `Lua script ${where()}: include "${path}" includes itself (${[...chain, path].join(' → ')})`,
        );
      }
      if (pasted.has(path)) continue;
      const included = readInclude(path);
      if (included === undefined) {
        throw new BatutaError(
          'LUA_INCLUDE',
          `Lua script ${where()}: unknown include "${path}"; expected the file lua/${path}.lua`,
        );
      }
      // Marked before resolving its own includes, so a diamond pastes the shared include once.
      pasted.add(path);
      out.push(resolve(included.replace(/\n$/, ''), [...chain, path]));
    }
    return out.join('\n');
  };

  return resolve(lua, []);
}
