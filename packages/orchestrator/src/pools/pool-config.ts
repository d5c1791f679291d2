// The pools document: one zod schema for the YAML file and the code API (`definePools`), its
// normalization into WorkerPools and SlotPools, and a YAML loader whose errors name file:line:column.
import { readFile } from 'node:fs/promises';
import { formatDagIssue, type SourceLocation } from '@batuta/scheduler';
import { isMap, isScalar, LineCounter, type Node, type Pair, parseDocument } from 'yaml';
import { z } from 'zod';
import { OrchestratorError } from '../errors.js';
import { POOL_NAME_PATTERN, type PoolsConfig, type SlotPool, type WorkerPool } from './worker-pool.js';

const COUNTER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Near misses of the built-in dimensions that would otherwise silently become custom counters. */
const NEAR_MISSES: Record<string, string> = {
  memory: 'memoryMb',
  mem: 'memoryMb',
  memorymb: 'memoryMb',
  memory_mb: 'memoryMb',
  ram: 'memoryMb',
  cpus: 'cpu',
  cores: 'cpu',
  vcpu: 'cpu',
  gpus: 'gpu',
};

const amount = (what: string) =>
  z.number({ error: `${what} must be a number` }).refine((value) => Number.isFinite(value) && value >= 0, {
    message: `${what} must be a finite number >= 0`,
  });

const capacitySchema = z
  .object({
    cpu: amount('cpu').optional(),
    memoryMb: amount('memoryMb').optional(),
    gpu: amount('gpu').optional(),
  })
  .catchall(amount('a custom counter'))
  .superRefine((capacity, context) => {
    for (const key of Object.keys(capacity)) {
      if (key === 'cpu' || key === 'memoryMb' || key === 'gpu') continue;
      const near =
        NEAR_MISSES[key.toLowerCase()] ?? (['cpu', 'gpu'].includes(key.toLowerCase()) ? key.toLowerCase() : undefined);
      if (near) {
        context.addIssue({
          code: 'custom',
          path: [key],
          params: { at: 'key' },
          message: `unknown resource '${key}'; did you mean '${near}'? (other names are custom counters)`,
        });
      } else if (!COUNTER_NAME.test(key)) {
        context.addIssue({
          code: 'custom',
          path: [key],
          params: { at: 'key' },
          message: `'${key}' is not a counter name (letters, digits, '_', '.', '-', starting with a letter or '_')`,
        });
      }
    }
  });

const poolSchema = z
  .strictObject({
    capacity: capacitySchema,
    labels: z.record(z.string(), z.string({ error: 'a label value must be a string' })).optional(),
    minWorkers: z.int({ error: 'minWorkers must be a whole number' }).min(0).optional(),
    maxWorkers: z.int({ error: 'maxWorkers must be a whole number' }).min(1).optional(),
    description: z.string().optional(),
  })
  .superRefine((pool, context) => {
    if (pool.minWorkers !== undefined && pool.maxWorkers !== undefined && pool.maxWorkers < pool.minWorkers) {
      context.addIssue({
        code: 'custom',
        path: ['maxWorkers'],
        message: `maxWorkers (${pool.maxWorkers}) is below minWorkers (${pool.minWorkers})`,
      });
    }
  });

const slotPoolSchema = z.union(
  [
    z.int().min(1),
    z.strictObject({
      slots: z.int({ error: 'slots must be a whole number' }).min(1),
      description: z.string().optional(),
    }),
  ],
  { error: 'a slot pool is a whole number of slots (>= 1) or { slots: N }' },
);

const nameSchema = z
  .string()
  .regex(POOL_NAME_PATTERN, { message: "a pool name uses letters, digits, '_', '.' and '-' (1 to 100 of them)" });

/** The pools document (YAML file or `definePools` argument); the TypeScript type is inferred from it. */
export const poolsDocumentSchema = z
  .strictObject({
    pools: z
      .record(nameSchema, poolSchema)
      .refine((pools) => Object.keys(pools).length > 0, { message: 'declare at least one pool' }),
    slotPools: z.record(nameSchema, slotPoolSchema).optional(),
  })
  .superRefine((document, context) => {
    for (const slotName of Object.keys(document.slotPools ?? {})) {
      for (const [poolName, pool] of Object.entries(document.pools)) {
        if (!Object.hasOwn(pool.capacity, slotName)) continue;
        context.addIssue({
          code: 'custom',
          path: ['slotPools', slotName],
          message:
            `slot pool '${slotName}' is also a per-worker counter of pool '${poolName}'; ` +
            'a counter is either per worker or cluster-wide: rename one of them',
        });
      }
    }
  });

/** The pools document as written. */
export type PoolsDocument = z.input<typeof poolsDocumentSchema>;

/** One problem in a pools document: code, field path and (for files) where it is. */
export interface PoolIssue {
  code: string;
  message: string;
  field: string;
  location?: SourceLocation;
}

/** A pools document failed validation; `issues` lists every problem, each printed as `file:line:col: CODE field: message`. */
export class PoolConfigError extends OrchestratorError {
  readonly issues: PoolIssue[];

  constructor(issues: PoolIssue[]) {
    super('POOLS_INVALID', issues.map((issue) => formatDagIssue(issue)).join('\n'));
    this.name = 'PoolConfigError';
    this.issues = issues;
  }
}

/** Declares pools in code: the same shape and checks as the pools file. Throws PoolConfigError. */
export function definePools(document: PoolsDocument): PoolsConfig {
  const parsed = poolsDocumentSchema.safeParse(document, { reportInput: true });
  if (!parsed.success) throw new PoolConfigError(describeIssues(parsed.error.issues).map((found) => found.issue));
  return normalize(parsed.data);
}

/** Parses and validates a pools YAML text; throws PoolConfigError with file:line:column for every problem. */
export function parsePoolsYaml(text: string, file: string): PoolsConfig {
  const lineCounter = new LineCounter();
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const document = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  if (document.errors.length > 0) {
    throw new PoolConfigError(
      document.errors.map((error) => ({
        code: error.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'YAML_SYNTAX',
        message: error.message.split('\n')[0] ?? error.message,
        field: '',
        location: at(error.pos[0]),
      })),
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 1_000 });
  } catch (error) {
    throw new PoolConfigError([{ code: 'YAML_SYNTAX', message: (error as Error).message, field: '', location: at(0) }]);
  }
  const parsed = poolsDocumentSchema.safeParse(data ?? {}, { reportInput: true });
  if (parsed.success) return normalize(parsed.data);
  const located = describeIssues(parsed.error.issues).map(({ issue, segments, at: where }) => ({
    ...issue,
    location: at(offsetOf(document.contents, segments, where)),
  }));
  located.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
  throw new PoolConfigError(located);
}

/** Reads and validates a pools file (UTF-8, with or without a BOM). */
export async function loadPoolsFile(path: string): Promise<PoolsConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new OrchestratorError('FILE_NOT_FOUND', `${path}: cannot read the pools file (${(error as Error).message})`);
  }
  return parsePoolsYaml(text, path);
}

function normalize(document: z.output<typeof poolsDocumentSchema>): PoolsConfig {
  const pools: WorkerPool[] = Object.entries(document.pools).map(([name, pool]) => {
    const { cpu, memoryMb, gpu, ...custom } = pool.capacity;
    const minWorkers = pool.minWorkers ?? 1;
    return {
      name,
      capacity: { cpu: cpu ?? 0, memoryMb: memoryMb ?? 0, gpu: gpu ?? 0, custom: custom as Record<string, number> },
      labels: { ...pool.labels },
      minWorkers,
      maxWorkers: pool.maxWorkers ?? Math.max(minWorkers, 1),
    };
  });
  const slotPools: SlotPool[] = Object.entries(document.slotPools ?? {}).map(([name, value]) => ({
    name,
    slots: typeof value === 'number' ? value : value.slots,
  }));
  return { pools, slotPools };
}

type Segment = string | number;

interface DescribedIssue {
  issue: PoolIssue;
  /** Where the problem sits in the document, and whether to point at the key or the value. */
  segments: Segment[];
  at: 'key' | 'value';
}

function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Zod issues as pool issues (one per unknown key), with codes a user can search for and their place. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): DescribedIssue[] {
  return issues.flatMap((issue): DescribedIssue[] => {
    const path = issue.path.filter((part): part is Segment => typeof part !== 'symbol');
    const one = (code: string, message: string, at: 'key' | 'value' = 'value'): DescribedIssue[] => [
      { issue: { code, message, field: formatPath(path) }, segments: path, at },
    ];
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({
          issue: {
            code: 'UNKNOWN_FIELD',
            message: `unknown field '${key}'${path.length === 0 ? ' (expected pools and slotPools)' : ''}`,
            field: formatPath([...path, key]),
          },
          segments: [...path, key],
          at: 'key',
        }));
      case 'invalid_type':
        return (issue as { input?: unknown }).input === undefined
          ? one('MISSING_FIELD', `'${String(path.at(-1) ?? 'value')}' is required`)
          : one('INVALID_TYPE', issue.message);
      case 'invalid_key':
        return one('INVALID_NAME', issue.issues[0]?.message ?? issue.message, 'key');
      case 'custom':
        return one('INVALID_VALUE', issue.message, issue.params?.at === 'key' ? 'key' : 'value');
      default:
        return one('INVALID_VALUE', issue.message);
    }
  });
}

/** The offset of the node at `path` (or of its key), else of the nearest ancestor that exists. */
function offsetOf(root: Node | null, path: readonly Segment[], at: 'key' | 'value'): number {
  let node: unknown = root;
  let fallback = root?.range?.[0] ?? 0;
  let pair: Pair | undefined;
  for (const segment of path) {
    if (!isMap(node)) return fallback;
    pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    if (!pair) return fallback;
    fallback = (pair.key as Node | null)?.range?.[0] ?? fallback;
    node = pair.value;
  }
  if (at === 'key' && pair) return (pair.key as Node | null)?.range?.[0] ?? fallback;
  const range = (node as Node | null | undefined)?.range;
  return range && range[0] !== range[1] ? range[0] : fallback;
}
