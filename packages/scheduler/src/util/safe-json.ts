// The one parser for JSON that enters from outside (a run's conf, an event's payload, CLI flags and files).
// `JSON.parse` itself never changes a prototype, but the objects it returns may carry an own `__proto__`
// key that any later `Object.assign` or `target[key] = value` turns into a prototype change; deep nesting
// overflows the stack of every recursive walker after it; and `1e400` parses to Infinity, which no store
// accepts. All three are refused here, at the door, with the path of the offending part.
import { BatutaError } from '../errors.js';

/** How much JSON one input may hold. */
export interface JsonLimits {
  /** Nesting levels of objects and arrays; the top-level object is level 1. */
  maxDepth: number;
  /** Size of the text in UTF-8 bytes. */
  maxBytes: number;
}

/** 64 levels and 256 KiB: far beyond any real conf, far below what hurts a scheduler. */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxBytes: 256 * 1024 };

/** Keys that reach an object's prototype chain when assigned: never accepted from outside. */
export const FORBIDDEN_JSON_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/**
 * Parses `text` as JSON within `limits`, refusing prototype keys and numbers outside a double's range.
 * `what` names the input in messages (`--conf`, `event payload`). Throws a BatutaError with code
 * JSON_INVALID, JSON_TOO_LARGE, JSON_TOO_DEEP, JSON_FORBIDDEN_KEY or JSON_NUMBER_RANGE.
 */
export function parseSafeJson(text: string, what: string, limits: Partial<JsonLimits> = {}): unknown {
  const { maxDepth, maxBytes } = { ...DEFAULT_JSON_LIMITS, ...limits };
  // UTF-8 never takes fewer bytes than UTF-16 code units, so a long text is refused before it is measured.
  const bytes = text.length > maxBytes ? text.length : utf8Length(text);
  if (bytes > maxBytes) {
    throw new BatutaError(
      'JSON_TOO_LARGE',
      `${what} is ${formatBytes(bytes)}${text.length > maxBytes ? ' or more' : ''}; the limit is ${formatBytes(maxBytes)} ` +
        '(pass large data by reference, e.g. a file or object-store URL)',
      { field: what },
    );
  }
  // Measured on the text, before parsing: the parser would build the whole tree first.
  const depth = textDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw new BatutaError('JSON_TOO_DEEP', `${what} nests deeper than ${maxDepth} levels of objects and arrays`, {
      field: what,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BatutaError('JSON_INVALID', `${what} is not valid JSON: ${(error as Error).message}`, {
      field: what,
      cause: error,
    });
  }
  checkSafeJson(value, what, { maxDepth });
  return value;
}

/**
 * Checks a value that is already parsed (a conf read back from a store, one built in code) as
 * parseSafeJson checks text: no prototype keys, no non-finite numbers, at most `maxDepth` levels.
 */
export function checkSafeJson(value: unknown, what: string, limits: Partial<Pick<JsonLimits, 'maxDepth'>> = {}): void {
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  const problem = findUnsafe(value, 0, maxDepth);
  if (!problem) return;
  const path = `${what}${problem.path.map(formatPathPart).join('')}`;
  switch (problem.kind) {
    case 'key':
      throw new BatutaError(
        'JSON_FORBIDDEN_KEY',
        `${path}: the key '${problem.key}' is not allowed (${FORBIDDEN_JSON_KEYS.join(', ')} would reach ` +
          'JavaScript prototypes); rename it',
        { field: what },
      );
    case 'depth':
      throw new BatutaError('JSON_TOO_DEEP', `${what} nests deeper than ${maxDepth} levels of objects and arrays`, {
        field: what,
      });
    case 'number':
      throw new BatutaError(
        'JSON_NUMBER_RANGE',
        `${path}: the number is outside the range of a double (it would become ${problem.value}); send it as a string`,
        { field: what },
      );
  }
}

type Unsafe =
  | { kind: 'key'; key: string; path: Array<string | number> }
  | { kind: 'depth'; path: Array<string | number> }
  | { kind: 'number'; value: number; path: Array<string | number> };

// Recursion is safe here: it stops at maxDepth. The path is built only on failure, while unwinding.
function findUnsafe(value: unknown, depth: number, maxDepth: number): Unsafe | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { kind: 'number', value, path: [] };
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth + 1 > maxDepth) return { kind: 'depth', path: [] };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = findUnsafe(value[index], depth + 1, maxDepth);
      if (problem) {
        problem.path.unshift(index);
        return problem;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_JSON_KEYS.includes(key)) return { kind: 'key', key, path: [key] };
    const problem = findUnsafe((value as Record<string, unknown>)[key], depth + 1, maxDepth);
    if (problem) {
      problem.path.unshift(key);
      return problem;
    }
  }
  return undefined;
}

/** The deepest nesting of `[`/`{` outside strings, counting stops once past `stopAbove`. */
function textDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c /* \ */) i++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > stopAbove) return deepest;
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) depth--;
  }
  return deepest;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} bytes`;
}

function formatPathPart(part: string | number): string {
  if (typeof part === 'number') return `[${part}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
}
