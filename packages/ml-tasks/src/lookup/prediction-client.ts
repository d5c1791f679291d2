// The consumer's side: look predictions up by their features (or entity ids), hashed exactly as the
// ingest hashed them (the key scheme is read from what the ingest recorded); on a miss, apply one of the
// source document's policies. Which prediction set answers: the model's `current` version, or, while the
// model has a rollout, the version `route()` assigns the entity — the same routing and the same counting
// as the online server (rollout-router.ts), so a batch consumer and `batuta serve` split alike and the
// rollout's sample-ratio check covers both.
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';
import { type LayoutInfo, parseLayoutInfo, parseVersionMeta, type VersionMeta } from '../ingest/prediction-sets.js';
import { DEFAULT_NAMESPACE, PredictionKeys } from '../ingest/redis-layout.js';
import { keyForLookup } from '../keys/key-schemes.js';
import { CachedRollout } from '../rollout/cached-rollout.js';
import { type RandomSource, SeededRandom } from '../rollout/random.js';
import { routerFor, secondOpinion } from '../rollout/rollout-router.js';
import { type RecordOutcome, RolloutStore } from '../rollout/rollout-store.js';
import type { Route } from '../rollout/router.js';
import type { XgboostModel } from '../xgboost/xgboost-model.js';
import { DEFAULT_MISSES_MAX_LENGTH, recordMiss } from './misses.js';

/** Scores one row live, for the `live` miss policy. `key` is the entity's routing key (a remote server routes by it). */
export interface LiveScorer {
  predictLabel(features: readonly number[], context?: { key?: string }): string | Promise<string>;
  /** Scores many rows at once (one request to a remote server); used for a batch's misses when present. */
  predictLabels?(rows: ReadonlyArray<{ features: readonly number[]; key?: string }>): Promise<string[]>;
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

/**
 * A lookup's input: the features (as a list or `{features}`) or `{id}` for an entity-id scheme. `key` is
 * the entity's routing key while the model has a rollout (give the one the online server gets, so both
 * assign the entity alike); default: the id, else the features joined by ','.
 */
export type LookupQuery =
  | readonly number[]
  | Float64Array
  | { features: readonly number[] | Float64Array; key?: string }
  | { id: string | number; key?: string };

/** The arm of a routed lookup (absent when the model has no rollout). */
export type LookupArm = 'baseline' | 'candidate';

/** A lookup's answer and where it came from. `holdout`: the rollout routes the entity around every model
 *  (answered by the `default` policy's value when that is the policy, else no value). */
export type LookupResult =
  | { status: 'hit'; value: string; key: string; version?: string; arm?: LookupArm }
  | { status: 'default'; value: string; key?: string; arm?: LookupArm }
  | { status: 'live'; value: string; key?: string; version?: string; arm?: LookupArm }
  | { status: 'missing'; key?: string; recorded: boolean; arm?: LookupArm }
  | { status: 'holdout'; value?: string; key?: string };

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
  /** Follow the model's rollout, read at most once per `refreshMs` (default true). */
  routing?: boolean;
  /** Count and log each routed lookup in the rollout's figures, as the server does (default true). */
  countAssignments?: boolean;
  /** Draws of a running bandit (default: seeded from the clock). */
  random?: RandomSource;
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

type Input = { features: readonly number[] } | { id: string | number };

function normalize(query: LookupQuery): { input: Input; entity: string } {
  if (query instanceof Float64Array || Array.isArray(query)) {
    const features = Array.from(query as ArrayLike<number>);
    return { input: { features }, entity: features.join(',') };
  }
  const keyed = query as { features?: readonly number[] | Float64Array; id?: string | number; key?: string };
  if (keyed.id !== undefined) return { input: { id: keyed.id }, entity: keyed.key ?? String(keyed.id) };
  const features = Array.from(keyed.features ?? []);
  return { input: { features }, entity: keyed.key ?? features.join(',') };
}

/** Where one lookup reads: its key, and under a rollout its route and the second opinion's key. */
interface Target {
  key: string;
  redisKey: string;
  version?: string;
  /** The route as counted (a routed version with no prediction set is answered by the baseline). */
  route?: Route & { arm: LookupArm };
  compareRedisKey?: string;
}

type Plan = Target | 'holdout' | undefined;

/** Looks predictions up for one model. Safe to share; caches `current` and the rollout for `refreshMs`. */
export class PredictionClient {
  readonly keys: PredictionKeys;
  private readonly redis: Redis;
  private readonly policy: MissPolicy;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly rollouts: RolloutStore;
  private readonly rollout: CachedRollout | undefined;
  private readonly countAssignments: boolean;
  private readonly random: RandomSource;
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
    this.rollouts = new RolloutStore(redis, { model: options.model, namespace: this.keys.namespace });
    this.rollout = options.routing === false ? undefined : new CachedRollout(this.rollouts, this.refreshMs, this.now);
    this.countAssignments = options.countAssignments ?? true;
    this.random = options.random ?? new SeededRandom(this.now() >>> 0);
  }

  /** Forgets the cached `current` version and rollout, so the next lookup reads them. */
  refresh(): void {
    this.currentReadAt = Number.NEGATIVE_INFINITY;
    this.layoutInfo = undefined;
    this.rollout?.forget();
  }

  /** The prediction for one input, or what the miss policy answers. */
  async lookup(query: LookupQuery, options: { miss?: MissPolicy } = {}): Promise<LookupResult> {
    return (await this.lookupMany([query], options))[0]!;
  }

  /**
   * The predictions of a batch of inputs, in order: one read of the rollout (cached), one MGET, one
   * pipeline counting the routed lookups; then the miss policy for the misses.
   */
  async lookupMany(queries: readonly LookupQuery[], options: { miss?: MissPolicy } = {}): Promise<LookupResult[]> {
    const policy = options.miss ?? this.policy;
    const normalized = queries.map(normalize);
    const { plans, routed } = await this.plan(
      normalized.map(({ input }) => input),
      normalized,
    );
    const redisKeys: string[] = [];
    for (const plan of plans) {
      if (plan === undefined || plan === 'holdout') continue;
      redisKeys.push(plan.redisKey);
      if (plan.compareRedisKey) redisKeys.push(plan.compareRedisKey);
    }
    const values = redisKeys.length > 0 ? await this.redis.mget(redisKeys) : [];
    const results: Array<LookupResult | undefined> = new Array(plans.length);
    const records: Array<RecordOutcome & { route: Route }> = [];
    const misses: number[] = [];
    let at = 0;
    for (let index = 0; index < plans.length; index++) {
      const plan = plans[index];
      const entity = normalized[index]!.entity;
      if (plan === 'holdout') {
        results[index] =
          policy.onMiss === 'default' ? { status: 'holdout', value: policy.value } : { status: 'holdout' };
        records.push({ route: { arm: 'holdout' }, key: entity });
        continue;
      }
      if (plan === undefined) {
        misses.push(index);
        continue;
      }
      const value = values[at++] ?? null;
      const second = plan.compareRedisKey ? (values[at++] ?? null) : null;
      if (plan.route) {
        const compared = value !== null && second !== null;
        records.push({ route: plan.route, key: entity, compared, disagreed: compared && second !== value });
      }
      if (value === null) {
        misses.push(index);
        continue;
      }
      results[index] = {
        status: 'hit',
        value,
        key: plan.key,
        ...(plan.version ? { version: plan.version } : {}),
        ...(plan.route ? { arm: plan.route.arm } : {}),
      };
    }
    const counted = routed && this.countAssignments ? this.rollouts.recordMany(records) : undefined;
    if (misses.length > 0)
      await this.answerMisses(misses, normalized, plans as Array<Target | undefined>, policy, results);
    await counted;
    return results as LookupResult[];
  }

  private async answerMisses(
    misses: readonly number[],
    normalized: ReadonlyArray<{ input: Input; entity: string }>,
    plans: ReadonlyArray<Target | undefined>,
    policy: MissPolicy,
    results: Array<LookupResult | undefined>,
  ): Promise<void> {
    const about = (plan: Target | undefined) => ({
      ...(plan ? { key: plan.key } : {}),
      ...(plan?.route ? { arm: plan.route.arm } : {}),
    });
    switch (policy.onMiss) {
      case 'default':
        for (const index of misses) results[index] = { status: 'default', value: policy.value, ...about(plans[index]) };
        return;
      case 'missing':
        for (const index of misses) results[index] = { status: 'missing', recorded: false, ...about(plans[index]) };
        return;
      case 'record':
        for (const index of misses) {
          const maxLength = policy.maxLength ?? DEFAULT_MISSES_MAX_LENGTH;
          await recordMiss(this.redis, this.keys, normalized[index]!.input, maxLength);
          results[index] = { status: 'missing', recorded: true, ...about(plans[index]) };
        }
        return;
      case 'live': {
        const rows = misses.map((index) => {
          const { input, entity } = normalized[index]!;
          if (!('features' in input)) {
            throw new MlTasksError('INVALID_ARGUMENT', 'the live miss policy needs the features, not an id, to score');
          }
          return { features: input.features, key: entity };
        });
        const scorer = policy.model;
        const labels = scorer.predictLabels
          ? await scorer.predictLabels(rows)
          : await Promise.all(rows.map((row) => scorer.predictLabel(row.features, { key: row.key })));
        const pipeline = this.redis.pipeline();
        misses.forEach((index, at) => {
          const plan = plans[index];
          const value = labels[at]!;
          // NX: a cache entry never overwrites a batch prediction written meanwhile.
          if (plan) pipeline.set(plan.redisKey, value, 'EX', policy.cacheTtlSeconds ?? 86_400, 'NX');
          results[index] = {
            status: 'live',
            value,
            ...about(plan),
            ...(plan?.version ? { version: plan.version } : {}),
          };
        });
        if (pipeline.length > 0) await pipeline.exec();
        return;
      }
    }
  }

  // Where each input's prediction is; undefined when nothing was ingested for it. `routed`: a rollout
  // assigned the inputs (their lookups are counted).
  private async plan(
    inputs: readonly Input[],
    normalized: ReadonlyArray<{ entity: string }>,
  ): Promise<{ plans: Plan[]; routed: boolean }> {
    this.layoutInfo ??= parseLayoutInfo(await this.redis.hgetall(this.keys.layout));
    const layout = this.layoutInfo;
    if (!layout) return { plans: inputs.map(() => undefined), routed: false };
    if (layout.layout === 'plain') {
      const plans = inputs.map((input) => {
        this.checkArity(input, layout.featureCount, 'was ingested');
        const key = keyForLookup(layout.keyScheme, input);
        return { key, redisKey: layout.prefix + key };
      });
      return { plans, routed: false };
    }
    const state = await this.rollout?.get();
    if (!state) {
      // The unsplit path: every input reads `current`.
      const version = await this.current();
      if (!version) return { plans: inputs.map(() => undefined), routed: false };
      const meta = await this.meta(version);
      return { plans: inputs.map((input) => this.target(input, version, meta)), routed: false };
    }
    const router = routerFor(state, this.random);
    const baseline = state.spec.baseline;
    const metas = new Map<string, VersionMeta | undefined>();
    const metaOf = async (version: string) => {
      // A set still being written is not there yet: its entities read the baseline's meanwhile.
      if (!metas.has(version)) {
        const meta = await this.metaIfAny(version);
        metas.set(version, meta?.status === 'complete' ? meta : undefined);
      }
      return metas.get(version);
    };
    const plans: Plan[] = [];
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index]!;
      const chosen = router(normalized[index]!.entity);
      if (chosen.arm === 'holdout') {
        plans.push('holdout');
        continue;
      }
      // A routed version with no prediction set is answered by the baseline's (the server's fallback).
      let version = chosen.version;
      let meta = await metaOf(version);
      if (!meta && version !== baseline) {
        version = baseline;
        meta = await metaOf(baseline);
      }
      if (!meta) {
        plans.push(undefined);
        continue;
      }
      const counted = (version === chosen.version ? chosen : { arm: 'baseline', version }) as Route & {
        arm: LookupArm;
      };
      const target: Target = { ...this.target(input, version, meta), route: counted };
      const other = secondOpinion(chosen, version, baseline);
      const otherMeta = other === undefined ? undefined : await metaOf(other);
      if (other !== undefined && otherMeta) target.compareRedisKey = this.target(input, other, otherMeta).redisKey;
      plans.push(target);
    }
    return { plans, routed: true };
  }

  private target(input: Input, version: string, meta: VersionMeta): Target {
    this.checkArity(input, meta.featureCount, `version ${version} was ingested`);
    const key = keyForLookup(meta.keyScheme, input);
    return { key, redisKey: this.keys.prediction(version, key), version };
  }

  // A lookup with another number of features hashes to a key that can never exist: say so
  // instead of answering a silent miss.
  private checkArity(input: Input, featureCount: number | undefined, what: string): void {
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
    const meta = await this.metaIfAny(version);
    if (!meta) {
      throw new MlTasksError('NO_CURRENT_VERSION', `${this.keys.model}: current version ${version} has no metadata`);
    }
    return meta;
  }

  private async metaIfAny(version: string): Promise<VersionMeta | undefined> {
    const cached = this.metas.get(version);
    if (cached) return cached;
    const meta = parseVersionMeta(version, await this.redis.hgetall(this.keys.meta(version)));
    // Metadata of a complete version never changes: cache it for good.
    if (meta?.status === 'complete') this.metas.set(version, meta);
    return meta;
  }
}
