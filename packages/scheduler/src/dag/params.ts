import { BatutaError } from '../errors.js';
import { checkSafeJson } from '../util/safe-json.js';
import type { ParamSpec, ParamsSchema } from './model.js';

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

function matchesType(expected: ParamSpec['type'], value: unknown): boolean {
  const actual = typeOf(value);
  if (expected === 'number') return actual === 'number' || actual === 'integer';
  return actual === expected;
}

/**
 * Merges a run's conf over the DAG's param defaults and checks it against the declared params.
 * Unknown keys are kept (Airflow keeps them too); a declared param with a wrong type, out of range
 * or outside its enum is an error naming the param and what was expected. A conf holding a prototype key
 * (`__proto__`, `constructor`, `prototype`), nesting too deep or a non-finite number is refused (checkSafeJson):
 * it may come straight from a store, where any client could have written it. A DAG with a zod `schema`
 * (a TypeScript DAG's `params`) is checked by it alone: its output, over the unknown keys, is the conf.
 */
export function resolveParams(
  params: Record<string, ParamSpec>,
  conf: Record<string, unknown>,
  where = 'conf',
  schema?: ParamsSchema,
): Record<string, unknown> {
  checkSafeJson(conf, where);
  if (schema) return resolveBySchema(schema, conf, where);
  // Spread defines own properties; `Object.assign` would set them, and an own `__proto__` key would then
  // replace the prototype of the resolved conf (which no store can keep).
  const defaults = Object.entries(params).flatMap(([name, spec]) =>
    spec.default === undefined ? [] : [[name, spec.default] as const],
  );
  const resolved: Record<string, unknown> = { ...Object.fromEntries(defaults), ...conf };
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(params)) {
    const value = resolved[name];
    if (value === undefined) {
      if (spec.required) problems.push(`${where}.${name}: required ${spec.type} is missing`);
      continue;
    }
    if (!matchesType(spec.type, value)) {
      problems.push(`${where}.${name}: expected ${spec.type}, got ${typeOf(value)} ${JSON.stringify(value)}`);
      continue;
    }
    if (spec.enum && !spec.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
      problems.push(`${where}.${name}: expected one of ${JSON.stringify(spec.enum)}, got ${JSON.stringify(value)}`);
    }
    if (typeof value === 'number') {
      if (spec.minimum !== undefined && value < spec.minimum)
        problems.push(`${where}.${name}: ${value} is below the minimum ${spec.minimum}`);
      if (spec.maximum !== undefined && value > spec.maximum)
        problems.push(`${where}.${name}: ${value} is above the maximum ${spec.maximum}`);
    }
  }
  if (problems.length > 0) throw new BatutaError('BAD_PARAMS', problems.join('\n'), { field: where });
  return resolved;
}

function resolveBySchema(schema: ParamsSchema, conf: Record<string, unknown>, where: string): Record<string, unknown> {
  const parsed = schema.safeParse(conf);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`));
      return `${where}${path.join('')}: ${issue.message}`;
    });
    throw new BatutaError('BAD_PARAMS', problems.join('\n'), { field: where });
  }
  return { ...conf, ...parsed.data };
}
