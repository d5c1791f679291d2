// The values every StateStore accepts: JSON only, checked with the path of the first bad part, so
// every adapter (and the coordinator, before a write) accepts and rejects the same values.
import { BatutaError } from '../errors.js';

/**
 * Encodes a value as the JSON text a store keeps, or throws `BatutaError('STORE_NOT_SERIALIZABLE')`
 * naming the offending path. `what` says whose value it is, for the message.
 * Adapters share it so every store accepts and rejects the same values.
 */
export function toStoredJson(value: unknown, what: string): string {
  const problem = findNonJson(value, []);
  if (problem) {
    const path = '$' + problem.path.map((part) => (typeof part === 'number' ? `[${part}]` : formatKey(part))).join('');
    throw new BatutaError(
      'STORE_NOT_SERIALIZABLE',
      `${what} is not JSON-serializable: ${path} is ${problem.what}; ` +
        'store only plain objects, arrays, strings, finite numbers, booleans and null',
    );
  }
  return JSON.stringify(value);
}

interface JsonProblem {
  path: Array<string | number>;
  what: string;
}

// The path is built only on failure (unshifted while unwinding), so large valid values cost no strings.
function findNonJson(value: unknown, ancestors: object[]): JsonProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path: [], what: `${value} (JSON has no NaN or Infinity)` };
    case 'undefined':
      return { path: [], what: 'undefined' };
    case 'function':
      return { path: [], what: 'a function' };
    case 'symbol':
      return { path: [], what: 'a symbol' };
    case 'bigint':
      return { path: [], what: 'a bigint (store it as a string)' };
  }
  if (value === null) return undefined;
  const object = value as object;
  if (ancestors.includes(object)) return { path: [], what: 'a reference back to an enclosing value (a cycle)' };
  if (Array.isArray(object)) {
    ancestors.push(object);
    for (let index = 0; index < object.length; index++) {
      const problem = findNonJson(object[index], ancestors);
      if (problem) {
        problem.path.unshift(index);
        return problem;
      }
    }
    ancestors.pop();
    return undefined;
  }
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
    return {
      path: [],
      what: `an instance of ${typeof name === 'string' && name ? name : 'a class'}, not a plain object`,
    };
  }
  ancestors.push(object);
  for (const [key, field] of Object.entries(object)) {
    if (field === undefined) continue; // dropped, as JSON.stringify drops it
    const problem = findNonJson(field, ancestors);
    if (problem) {
      problem.path.unshift(key);
      return problem;
    }
  }
  ancestors.pop();
  return undefined;
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
