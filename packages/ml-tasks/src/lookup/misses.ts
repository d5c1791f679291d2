// The misses queue: lookups that found no prediction are recorded in a Redis stream so that the
// next batch run scores them (the source document's "record the input so the next batch scores it").
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';
import { DEFAULT_NAMESPACE, PredictionKeys } from '../ingest/redis-layout.js';
import type { NumericTable } from '../io/csv.js';

/** Default cap on the stream (approximate trimming keeps it cheap). */
export const DEFAULT_MISSES_MAX_LENGTH = 100_000;

/** Writes one number so that reading it back gives the same double (NaN as 'nan'). */
function featureText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Appends a missed lookup (its features, or its entity id) to the model's misses stream. */
export async function recordMiss(
  redis: Redis,
  keys: PredictionKeys,
  query: { features: ArrayLike<number> } | { id: string | number },
  maxLength = DEFAULT_MISSES_MAX_LENGTH,
): Promise<void> {
  const field =
    'id' in query ? ['id', String(query.id)] : ['features', Array.from(query.features, featureText).join(',')];
  await redis.xadd(keys.misses, 'MAXLEN', '~', maxLength, '*', ...field);
}

/** What a drain took off the queue: distinct feature rows as a table, and distinct entity ids. */
export interface DrainedMisses extends NumericTable {
  ids: string[];
  /** Stream entries removed (duplicates included). */
  entries: number;
}

/**
 * Takes up to `max` recorded misses off a model's stream (oldest first) and returns the distinct
 * feature rows and ids. Entries are deleted once read: the caller scores and ingests them.
 */
export async function drainMisses(
  redis: Redis,
  options: { model: string; namespace?: string; max?: number; featureCount?: number },
): Promise<DrainedMisses> {
  const keys = new PredictionKeys(options.namespace ?? DEFAULT_NAMESPACE, options.model);
  const entries = await redis.xrange(keys.misses, '-', '+', 'COUNT', options.max ?? DEFAULT_MISSES_MAX_LENGTH);
  const rows = new Map<string, number[]>();
  const ids = new Set<string>();
  let width = options.featureCount;
  for (const [, fields] of entries) {
    for (let at = 0; at + 1 < fields.length; at += 2) {
      const name = fields[at];
      const value = fields[at + 1] as string;
      if (name === 'id') ids.add(value);
      if (name !== 'features' || rows.has(value)) continue;
      const features = value.split(',').map((text) => (text === 'nan' ? Number.NaN : Number(text)));
      width ??= features.length;
      if (features.length !== width) {
        throw new MlTasksError(
          'INVALID_ARGUMENT',
          `a recorded miss of ${options.model} has ${features.length} features, expected ${width}: ${value.slice(0, 80)}`,
        );
      }
      rows.set(value, features);
    }
  }
  if (entries.length > 0) {
    for (let at = 0; at < entries.length; at += 1000) {
      await redis.xdel(keys.misses, ...entries.slice(at, at + 1000).map(([id]) => id));
    }
  }
  const tableWidth = width ?? 0;
  const data = new Float64Array(rows.size * tableWidth);
  let row = 0;
  for (const features of rows.values()) data.set(features, row++ * tableWidth);
  return { data, rows: rows.size, width: tableWidth, ids: [...ids], entries: entries.length };
}
