// The vocabulary of DAG problems: stable codes, field paths, "did you mean", and the translation of zod
// issues into messages a user can act on ("expected a number, got string "two"").
import { z } from 'zod';
import type { DagIssue } from '../errors.js';

/** Every code a DAG problem may carry; stable, so tools and tests can rely on them. */
export const DAG_ISSUE_CODES = [
  'YAML_SYNTAX',
  'YAML_ALIAS_LIMIT',
  'MULTIPLE_DOCUMENTS',
  'EMPTY_FILE',
  'NOT_A_MAP',
  'UNKNOWN_FIELD',
  'MISSING_FIELD',
  'INVALID_TYPE',
  'INVALID_VALUE',
  'INVALID_ID',
  'DUPLICATE_TASK_ID',
  'DUPLICATE_KEY',
  'DUPLICATE_DAG_ID',
  'UNKNOWN_UPSTREAM',
  'SELF_DEPENDENCY',
  'DAG_CYCLE',
  'UNKNOWN_OPERATOR',
  'INVALID_OPERATOR_ARGS',
  'BAD_CRON',
  'BAD_TIMEZONE',
  'BAD_DURATION',
  'BAD_RESOURCE',
  'BAD_TRIGGER_RULE',
  'BAD_MAP',
] as const;
export type DagIssueCode = (typeof DAG_ISSUE_CODES)[number];

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

/** What the loader knows about a schema beyond zod's own issue: the code to report and how to say "expected". */
export interface IssueHint {
  code?: DagIssueCode;
  /** Completes "expected …": `a duration such as '30s'`. */
  expected?: string;
  /** A full message for a value of the right type that is still wrong (e.g. an id with a space). */
  describe?: (input: unknown) => string | undefined;
}

/** Hints, keyed by schema; `hinted()` adds one. Kept apart from zod's metadata so it stays out of the JSON Schema. */
export const issueHints = z.registry<IssueHint>();

/** Registers a hint on `schema` and returns the same schema (apply it after `.meta()`, which clones). */
export function hinted<T extends z.ZodType>(schema: T, hint: IssueHint): T {
  issueHints.add(schema, hint);
  return schema;
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  options?: readonly z.ZodType[];
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => schema.def as unknown as SchemaDef;
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** The schema and the schemas it wraps (optional, default, pipe input …), outermost first. */
function unwrapChain(schema: z.ZodType): z.ZodType[] {
  const chain = [schema];
  let current = schema;
  for (let guard = 0; guard < 32; guard++) {
    const def = defOf(current);
    const next = WRAPPERS.has(def.type)
      ? def.innerType
      : def.type === 'pipe'
        ? def.in
        : def.type === 'lazy'
          ? def.getter?.()
          : undefined;
    if (next === undefined) break;
    chain.push(next);
    current = next;
  }
  return chain;
}

const innermost = (schema: z.ZodType): z.ZodType => unwrapChain(schema).at(-1) ?? schema;

function childSchema(schema: z.ZodType, segment: PathSegment): z.ZodType | undefined {
  const base = innermost(schema);
  const def = defOf(base);
  switch (def.type) {
    case 'object': {
      const shape = def.shape ?? {};
      if (typeof segment === 'string' && Object.hasOwn(shape, segment)) return shape[segment];
      return def.catchall;
    }
    case 'record':
      return def.valueType;
    case 'array':
      return typeof segment === 'number' ? def.element : undefined;
    case 'union':
      for (const option of def.options ?? []) {
        const child = childSchema(option, segment);
        if (child !== undefined) return child;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The sub-schema that validates the value at `path`, if the path stays inside the schema. */
export function schemaAt(root: z.ZodType, path: readonly PathSegment[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = root;
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = childSchema(current, segment);
  }
  return current;
}

function hintFor(schema: z.ZodType | undefined): IssueHint | undefined {
  if (schema === undefined) return undefined;
  for (const link of unwrapChain(schema)) {
    const hint = issueHints.get(link);
    if (hint) return hint;
  }
  return undefined;
}

/** The field names an object schema accepts at `path` (all options' fields for a union). */
function fieldNamesAt(root: z.ZodType, path: readonly PathSegment[]): string[] {
  const schema = schemaAt(root, path);
  if (schema === undefined) return [];
  const names: string[] = [];
  const collect = (candidate: z.ZodType): void => {
    const def = defOf(innermost(candidate));
    if (def.type === 'object') names.push(...Object.keys(def.shape ?? {}));
    if (def.type === 'union') for (const option of def.options ?? []) collect(option);
  };
  collect(schema);
  return [...new Set(names)];
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
  null: 'an empty value',
  date: 'a date',
};

const formatLiteral = (value: unknown): string => (typeof value === 'string' ? value : String(value));

function listOf(values: readonly unknown[]): string {
  return values.map(formatLiteral).join(', ');
}

type ZodIssue = z.core.$ZodIssue;

/** Converts zod issues to PathIssues with our codes and messages; `root` is the schema the issue paths start from. */
export function zodIssuesToPathIssues(
  issues: readonly ZodIssue[],
  root: z.ZodType,
  options: { prefix?: readonly PathSegment[]; code?: DagIssueCode } = {},
): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) convertIssue(issue, root, options.prefix ?? [], options.code, out);
  return out;
}

function convertIssue(
  issue: ZodIssue,
  root: z.ZodType,
  prefix: readonly PathSegment[],
  override: DagIssueCode | undefined,
  out: PathIssue[],
  inherited?: IssueHint,
): void {
  const relative = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  const path = [...prefix, ...relative];
  const schema = schemaAt(root, relative);
  // A union's hint covers problems its branches report about the value itself.
  const hint = hintFor(schema) ?? (relative.length === 0 ? inherited : undefined);
  const push = (code: DagIssueCode, message: string, at?: 'key'): void => {
    out.push({ code: override ?? code, message, path, ...(at ? { at } : {}) });
  };
  const expected = (fallback: string): string => hint?.expected ?? fallback;
  const input = issue.input;

  switch (issue.code) {
    case 'custom': {
      const params = issue.params as { code?: DagIssueCode; at?: 'key' } | undefined;
      push(params?.code ?? hint?.code ?? 'INVALID_VALUE', issue.message, params?.at === 'key' ? 'key' : undefined);
      return;
    }
    case 'unrecognized_keys': {
      const valid = fieldNamesAt(root, relative);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, valid);
        const message =
          suggestion !== ''
            ? `unknown field '${key}'${suggestion}`
            : `unknown field '${key}'${valid.length > 0 ? `; valid fields: ${valid.join(', ')}` : ''}`;
        out.push({ code: override ?? 'UNKNOWN_FIELD', message, path: [...path, key], at: 'key' });
      }
      return;
    }
    case 'invalid_type': {
      if (input === undefined) {
        const name = path.at(-1);
        const what = hint?.expected ?? TYPE_WORDS[issue.expected];
        push('MISSING_FIELD', `missing required field '${String(name)}'${what ? ` (${what})` : ''}`);
        return;
      }
      push(
        hint?.code ?? 'INVALID_TYPE',
        hint?.describe?.(input) ??
          `expected ${expected(TYPE_WORDS[issue.expected] ?? issue.expected)}, got ${describeValue(input)}`,
      );
      return;
    }
    case 'invalid_union': {
      convertUnion(issue, schema, hint, path, override, out);
      return;
    }
    case 'invalid_key': {
      // The path ends at the offending key; the record that owns the key schema is one step up.
      const record = schemaAt(root, relative.slice(0, -1));
      const keySchema = record === undefined ? undefined : defOf(innermost(record)).keyType;
      const keyHint = hintFor(keySchema);
      const message =
        keyHint?.describe?.(input) ?? `invalid key ${describeValue(input)}: ${issue.issues[0]?.message ?? ''}`;
      push(keyHint?.code ?? 'INVALID_VALUE', message, 'key');
      return;
    }
    case 'invalid_value': {
      const values = issue.values;
      const got = describeValue(input);
      const suggestion = typeof input === 'string' ? didYouMean(input, values.map(formatLiteral)) : '';
      const message =
        values.length === 1
          ? `expected ${formatLiteral(values[0])}, got ${got}`
          : hint?.expected
            ? `expected ${hint.expected} (one of ${listOf(values)}), got ${got}${suggestion}`
            : `expected one of ${listOf(values)}, got ${got}${suggestion}`;
      push(hint?.code ?? 'INVALID_VALUE', message);
      return;
    }
    case 'too_small': {
      const what =
        issue.origin === 'array'
          ? `at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
          : issue.origin === 'string'
            ? Number(issue.minimum) === 1
              ? 'a non-empty string'
              : `at least ${issue.minimum} characters`
            : issue.inclusive === false
              ? `more than ${issue.minimum}`
              : `at least ${issue.minimum}`;
      const got = Array.isArray(input) ? `${input.length}` : describeValue(input);
      push(hint?.code ?? 'INVALID_VALUE', `expected ${hint?.expected ?? what}, got ${got}`);
      return;
    }
    case 'too_big': {
      const what =
        issue.origin === 'array'
          ? `at most ${issue.maximum} items`
          : issue.origin === 'string'
            ? `at most ${issue.maximum} characters`
            : issue.inclusive === false
              ? `less than ${issue.maximum}`
              : `at most ${issue.maximum}`;
      const got = Array.isArray(input) ? `${input.length}` : describeValue(input);
      push(hint?.code ?? 'INVALID_VALUE', `expected ${what}, got ${got}`);
      return;
    }
    case 'invalid_format': {
      const message =
        hint?.describe?.(input) ??
        `expected ${expected(issue.pattern ? `text matching ${issue.pattern}` : `a ${issue.format}`)}, got ${describeValue(input)}`;
      push(hint?.code ?? 'INVALID_VALUE', message);
      return;
    }
    case 'not_multiple_of': {
      push(hint?.code ?? 'INVALID_VALUE', `expected a multiple of ${issue.divisor}, got ${describeValue(input)}`);
      return;
    }
    default: {
      push(hint?.code ?? 'INVALID_VALUE', issue.message);
    }
  }
}

const isRootMismatch = (issue: ZodIssue): boolean =>
  issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value');

function convertUnion(
  issue: Extract<ZodIssue, { code: 'invalid_union' }>,
  schema: z.ZodType | undefined,
  hint: IssueHint | undefined,
  path: PathSegment[],
  override: DagIssueCode | undefined,
  out: PathIssue[],
): void {
  const branches = 'errors' in issue ? issue.errors : [];
  const options = schema === undefined ? [] : (defOf(innermost(schema)).options ?? []);
  // A branch whose problems lie deeper than the value itself matched its shape: report that branch's problems.
  const informative = branches.findIndex((errors) => errors.length > 0 && !errors.every(isRootMismatch));
  const branchSchema = options[informative];
  if (informative >= 0 && branchSchema !== undefined) {
    for (const inner of branches[informative] ?? []) convertIssue(inner, branchSchema, path, override, out, hint);
    return;
  }
  const expectations: string[] = [];
  const literals: string[] = [];
  let typeOnly = true;
  for (const errors of branches) {
    const first = errors[0];
    if (first?.code === 'invalid_type') expectations.push(TYPE_WORDS[first.expected] ?? first.expected);
    if (first?.code === 'invalid_value') {
      typeOnly = false;
      literals.push(...first.values.map(formatLiteral));
      expectations.push(first.values.length === 1 ? formatLiteral(first.values[0]) : `one of ${listOf(first.values)}`);
    }
  }
  const input = issue.input;
  const suggestion = typeof input === 'string' && literals.length > 0 ? didYouMean(input, literals) : '';
  const what = hint?.expected ?? [...new Set(expectations)].join(' or ');
  const code =
    override ?? (input === undefined ? 'MISSING_FIELD' : (hint?.code ?? (typeOnly ? 'INVALID_TYPE' : 'INVALID_VALUE')));
  out.push({ code, message: `expected ${what}, got ${describeValue(input)}${suggestion}`, path });
}
