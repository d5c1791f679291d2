// The consumer's side: look a prediction up by its features (or entity id), hashed exactly as the
// ingest hashed them (the key scheme is read from what the ingest recorded), resolving the model's
// `current` version; on a miss, apply one of the source document's policies.
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';
import { type LayoutInfo, parseLayoutInfo, parseVersionMeta, type VersionMeta } from '../ingest/prediction-sets.js';
import { DEFAULT_NAMESPACE, PredictionKeys } from '../ingest/redis-layout.js';
import { keyForLookup } from '../keys/key-schemes.js';
import type { XgboostModel } from '../xgboost/xgboost-model.js';
import { DEFAULT_MISSES_MAX_LENGTH, recordMiss } from './misses.js';

/** Scores one row live, for the `live` miss policy. */
export interface LiveScorer {
  predictLabel(features: readonly number[]): string | Promise<string>;
}

/** What to do when no prediction is stored for the input. */
export type MissPolicy =
  /** Answer a fixed value (the original consumer answered 'setosa'). */
  | { onMiss: 'default'; value: string }
  /** Score the input with a live model and write the answer back as a cache entry. */
  | { onMiss: 'live'; model: LiveScorer; cacheTtlSeconds?: number }
  /** Record the input so the next batch run scores it; answer "missing". */
  | { onMiss: 'record'; maxLength?: number }
  /** Answer "missing". */
  | { onMiss: 'missing' };

/** A lookup's input: the features (as a list or `{features}`) or `{id}` for an entity-id scheme. */
export type LookupQuery =
  | readonly number[]
  | Float64Array
  | { features: readonly number[] | Float64Array }
  | { id: string | number };

/** A lookup's answer and where it came from. */
export type LookupResult =
  | { status: 'hit'; value: string; key: string; version?: string }
  | { status: 'default'; value: string; key?: string }
  | { status: 'live'; value: string; key?: string; version?: string }
  | { status: 'missing'; key?: string; recorded: boolean };

/** Options of a PredictionClient. */
export interface PredictionClientOptions {
  model: string;
  namespace?: string;
  /** Default policy for misses (default `{ onMiss: 'missing' }`). */
  miss?: MissPolicy;
  /** How long `current` is cached; a switch is seen within this time (default 1,000 ms; 0 = read every time). */
  refreshMs?: number;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** A live scorer over an XgboostModel: the class name of the argmax (or the value for a regression). */
export function liveScorer(model: XgboostModel, labels?: readonly string[]): LiveScorer {
  return {
    predictLabel(features) {
      if (model.isClassifier) {
        const classes = new Int32Array(1);
        model.predictClassesInto(Float64Array.from(features), 1, classes);
        const index = classes[0] as number;
        return labels?.[index] ?? String(index);
      }
      return String(model.predictRow(features)[0]);
    },
  };
}

function normalize(query: LookupQuery): { features: readonly number[] } | { id: string | number } {
  if (query instanceof Float64Array) return { features: Array.from(query) };
  if ('id' in query) return { id: query.id };
  if ('features' in query) return { features: Array.from(query.features) };
  return { features: Array.from(query) };
}

/** Looks predictions up for one model. Safe to share; caches `current` for `refreshMs`. */
export class PredictionClient {
  readonly keys: PredictionKeys;
  private readonly redis: Redis;
  private readonly policy: MissPolicy;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private layoutInfo: LayoutInfo | undefined;
  private currentVersion: string | undefined;
  private currentReadAt = Number.NEGATIVE_INFINITY;
  private readonly metas = new Map<string, VersionMeta>();

  constructor(redis: Redis, options: PredictionClientOptions) {
    this.redis = redis;
    this.keys = new PredictionKeys(options.namespace ?? DEFAULT_NAMESPACE, options.model);
    this.policy = options.miss ?? { onMiss: 'missing' };
    this.refreshMs = options.refreshMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Forgets the cached `current` version, so the next lookup reads it. */
  refresh(): void {
    this.currentReadAt = Number.NEGATIVE_INFINITY;
    this.layoutInfo = undefined;
  }

  /** The prediction for one input, or what the miss policy answers. */
  async lookup(query: LookupQuery, options: { miss?: MissPolicy } = {}): Promise<LookupResult> {
    const input = normalize(query);
    const policy = options.miss ?? this.policy;
    const target = await this.resolve(input);
    if (target) {
      const value = await this.redis.get(target.redisKey);
      if (value !== null) {
        return { status: 'hit', value, key: target.key, ...(target.version ? { version: target.version } : {}) };
      }
    }
    const key = target ? { key: target.key } : {};
    switch (policy.onMiss) {
      case 'default':
        return { status: 'default', value: policy.value, ...key };
      case 'missing':
        return { status: 'missing', recorded: false, ...key };
      case 'record':
        await recordMiss(this.redis, this.keys, input, policy.maxLength ?? DEFAULT_MISSES_MAX_LENGTH);
        return { status: 'missing', recorded: true, ...key };
      case 'live': {
        if (!('features' in input)) {
          throw new MlTasksError('INVALID_ARGUMENT', 'the live miss policy needs the features, not an id, to score');
        }
        const value = await policy.model.predictLabel(input.features);
        if (target) {
          // NX: a cache entry never overwrites a batch prediction written meanwhile.
          await this.redis.set(target.redisKey, value, 'EX', policy.cacheTtlSeconds ?? 86_400, 'NX');
        }
        return { status: 'live', value, ...key, ...(target?.version ? { version: target.version } : {}) };
      }
    }
  }

  // The Redis key holding the input's prediction; undefined when nothing was ingested yet.
  private async resolve(
    input: { features: readonly number[] } | { id: string | number },
  ): Promise<{ key: string; redisKey: string; version?: string } | undefined> {
    this.layoutInfo ??= parseLayoutInfo(await this.redis.hgetall(this.keys.layout));
    const layout = this.layoutInfo;
    if (!layout) return undefined;
    if (layout.layout === 'plain') {
      this.checkArity(input, layout.featureCount, 'was ingested');
      const key = keyForLookup(layout.keyScheme, input);
      return { key, redisKey: layout.prefix + key };
    }
    const version = await this.current();
    if (!version) return undefined;
    const meta = await this.meta(version);
    this.checkArity(input, meta.featureCount, `version ${version} was ingested`);
    const key = keyForLookup(meta.keyScheme, input);
    return { key, redisKey: this.keys.prediction(version, key), version };
  }

  // A lookup with another number of features hashes to a key that can never exist: say so
  // instead of answering a silent miss.
  private checkArity(
    input: { features: readonly number[] } | { id: string | number },
    featureCount: number | undefined,
    what: string,
  ): void {
    if (!('features' in input) || featureCount === undefined || input.features.length === featureCount) return;
    throw new MlTasksError(
      'FEATURE_COUNT_MISMATCH',
      `${this.keys.model} ${what} with ${featureCount} features; the lookup has ${input.features.length}`,
    );
  }

  private async current(): Promise<string | undefined> {
    const nowMs = this.now();
    if (nowMs - this.currentReadAt >= this.refreshMs) {
      this.currentVersion = (await this.redis.get(this.keys.current)) ?? undefined;
      this.currentReadAt = nowMs;
    }
    return this.currentVersion;
  }

  private async meta(version: string): Promise<VersionMeta> {
    const cached = this.metas.get(version);
    if (cached) return cached;
    const meta = parseVersionMeta(version, await this.redis.hgetall(this.keys.meta(version)));
    if (!meta) {
      throw new MlTasksError('NO_CURRENT_VERSION', `${this.keys.model}: current version ${version} has no metadata`);
    }
    // Metadata of a complete version never changes: cache it for good.
    if (meta.status === 'complete') this.metas.set(version, meta);
    return meta;
  }
}
