// The vocabulary of DAG problems: stable codes, field paths, "did you mean", and how values read in messages.
import type { DagIssue } from '../errors.js';

import type { DagIssueCode } from './issue-codes.js';

export { DAG_ISSUE_CODES, type DagIssueCode } from './issue-codes.js';

/** One step of a field path: a map key or a list index. */
export type PathSegment = string | number;

/** A problem before it is given a location: the path is kept as segments so a loader can find its node. */
export interface PathIssue {
  code: DagIssueCode;
  message: string;
  path: PathSegment[];
  /** Point at the key of the last segment rather than its value (unknown and duplicate keys, bad ids). */
  at?: 'key' | 'value';
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `['tasks', 'predict', 'upstream', 1]` → `tasks.predict.upstream[1]`; keys with other characters are quoted. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A located-less DagIssue from a PathIssue. */
export function toDagIssue(issue: PathIssue): DagIssue {
  return { code: issue.code, message: issue.message, field: formatFieldPath(issue.path) };
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

/** The candidate closest to `name`, when one is close enough to be a likely typo; ties go to the earlier one. */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const lower = candidate.toLowerCase();
    let distance: number;
    if (lower === wanted) distance = 0;
    else if (wanted.length >= 3 && lower.startsWith(wanted)) distance = limit;
    else if (Math.abs(lower.length - wanted.length) > limit) continue;
    else distance = editDistance(wanted, lower);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean 'x'?` or the empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const nearest = nearestName(name, candidates);
  return nearest === undefined ? '' : `; did you mean '${nearest}'?`;
}

const ID_CHARACTER = /[A-Za-z0-9_.-]/;
/** A key no document may use: parsers drop it, or it would replace an object's prototype. */
export const RESERVED_KEY = '__proto__';

/** Why `id` is not a valid DAG or task id (ID_PATTERN), or undefined when it is one. */
export function idProblem(id: string): string | undefined {
  if (id === '') return "an id cannot be empty; use letters, digits, '_', '.' and '-'";
  if (id === RESERVED_KEY)
    return `'${RESERVED_KEY}' is reserved (JavaScript objects treat it specially); choose another id`;
  const characters = [...id];
  const bad = characters.findIndex((character) => !ID_CHARACTER.test(character));
  if (bad >= 0) {
    const shown = JSON.stringify(characters[bad]);
    return `id ${JSON.stringify(id)} contains ${shown} at character ${bad + 1}; ids use letters, digits, '_', '.' and '-'`;
  }
  if (id.includes('..')) return `id ${JSON.stringify(id)} contains '..'; ids use single dots only`;
  if (characters.length > 250)
    return `id ${JSON.stringify(id.slice(0, 40))}… is ${characters.length} characters long; the limit is 250`;
  return undefined;
}

/** How a value reads in a message: `string "two"`, `number 3`, `a list`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return `number ${String(value)}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a map';
  return typeof value;
}
