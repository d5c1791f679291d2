// zod issues → PathIssues with our codes and messages a user can act on ("expected a number, got string "two"").
// zod's issue says what failed; the schema it failed at (found again by walking the path) says what to call
// it, through the hints registered with `hinted()`.
import { z } from 'zod';
import { type DagIssueCode, describeValue, didYouMean, type PathIssue, type PathSegment } from './issues.js';

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
  const message = hint?.describe?.(input) ?? `expected ${what}, got ${describeValue(input)}${suggestion}`;
  out.push({ code, message, path });
}
