// Online scoring of one model with its rollout: each request is routed (router.ts), scored by the native
// XGBoost scorer, and counted in the rollout's figures; a shadow or canary candidate is also compared with
// the baseline so the disagreement guard has data. Validity, always: every version passes the validity
// gate before it serves (at start and on every `checkGates`); a request routed to a version that fails it
// is answered by the baseline when that one passes, and refused (MODEL_INVALID → 503) when none does.
// Off the hot path (what `batuta serve` uses): with `figuresFlushMs` the figures are summed in memory and
// written in one pipeline per interval instead of one awaited round trip per request; and while requests
// keep coming, the rollout state is reread in the background once it is `stateRefreshMs` old, so no
// request waits on Redis for it (after a quiet spell the next request waits, so a state is never served
// long after its refresh time).
import { z } from 'zod';
import { MlTasksError } from '../errors.js';
import { evaluateModel, type GateReport, type MetricBounds, type TrustedSet } from '../gate/validity-gate.js';
import { CachedRollout } from '../rollout/cached-rollout.js';
import { type RandomSource, SeededRandom } from '../rollout/random.js';
import { routerFor, secondOpinion } from '../rollout/rollout-router.js';
import type { RecordOutcome, RecordTally, RolloutStore, StoredRollout } from '../rollout/rollout-store.js';
import type { Route } from '../rollout/router.js';
import type { XgboostModel } from '../xgboost/xgboost-model.js';

export interface ServedVersion {
  version: string;
  model: XgboostModel;
  /** Class names, for a classifier's answer (default: the class index). */
  labels?: readonly string[];
}

export interface ModelServerOptions {
  name: string;
  /** The feature names, in the model's column order: requests must give exactly these. */
  featureNames: readonly string[];
  versions: readonly ServedVersion[];
  /** The version served when the model has no rollout. */
  defaultVersion: string;
  /** The validity gate: a trusted set and the metric bounds every served version must meet. */
  gate?: { trusted: TrustedSet; bounds: MetricBounds };
  rollouts: RolloutStore;
  /** How long a read rollout state is reused (default 1 s); busy, it is reread in the background. */
  stateRefreshMs?: number;
  /**
   * Write the rollout figures at most this often, summed, instead of before each `predict` resolves
   * (default: before it resolves). Up to this much of the counts is lost if the process dies; `close()`
   * writes the rest.
   */
  figuresFlushMs?: number;
  /** Draws for requests without an entity key and for bandits (default: seeded from the clock). */
  random?: RandomSource;
  now?: () => number;
  /** `gate_failed`, `gate_passed`, `served_fallback`, `figures_write_failed` … for the server's log. */
  onEvent?: (event: { event: string; model: string; version?: string; detail?: string }) => void;
}

/** One scored request. `version` null: held out (answered by no model). */
export interface Prediction {
  version: string | null;
  arm: Route['arm'];
  prediction: string | number | null;
  /** A shadow's answer, logged not returned by callers that follow the strategy. */
  shadow?: { version: string; prediction: string | number; agreed: boolean };
}

export interface ModelStatus {
  model: string;
  versions: Array<{ version: string; servable: boolean; gate?: GateReport }>;
  rollout?: { strategy: string; status: string; step: number; baseline: string; candidate?: string };
}

export class ModelServer {
  readonly name: string;
  /** The feature names a request gives, in the model's column order. */
  readonly featureNames: readonly string[];
  readonly requestSchema: z.ZodType<{ features: Record<string, number>; key?: string | undefined }>;
  private readonly versions: Map<string, ServedVersion>;
  private readonly gates = new Map<string, GateReport>();
  private readonly random: RandomSource;
  private readonly now: () => number;
  private readonly rollout: CachedRollout;
  /** The figures counted and not yet written (with `figuresFlushMs`): sums, not one object per request. */
  private unwritten: RecordTally;
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The row being scored and the scorer's outputs, reused by every request (scoring is synchronous). */
  private readonly row: Float64Array;
  private readonly classOut = new Int32Array(1);
  private readonly valueOut = new Float64Array(1);

  constructor(private readonly options: ModelServerOptions) {
    this.name = options.name;
    this.featureNames = options.featureNames;
    this.row = new Float64Array(options.featureNames.length);
    this.versions = new Map(options.versions.map((served) => [served.version, served]));
    if (!this.versions.has(options.defaultVersion)) {
      throw new MlTasksError(
        'INVALID_ARGUMENT',
        `default version '${options.defaultVersion}' of ${options.name} is not among its versions`,
      );
    }
    for (const served of options.versions) {
      if (served.model.featureCount !== options.featureNames.length) {
        throw new MlTasksError(
          'FEATURE_COUNT_MISMATCH',
          `${options.name} ${served.version} takes ${served.model.featureCount} features; ${options.featureNames.length} names given`,
        );
      }
    }
    const features = z
      .object(Object.fromEntries(options.featureNames.map((name) => [name, z.number().finite()])))
      .strict();
    this.requestSchema = z.object({ features, key: z.string().min(1).max(500).optional() }).strict() as never;
    this.now = options.now ?? Date.now;
    this.unwritten = options.rollouts.tally();
    this.random = options.random ?? new SeededRandom(this.now() >>> 0);
    this.rollout = new CachedRollout(options.rollouts, options.stateRefreshMs ?? 1_000, this.now, {
      background: true,
      onReadError: (error) => this.emit('rollout_read_failed', '', String(error)),
    });
  }

  /** Runs the validity gate on every version; call at start and on a schedule. */
  checkGates(): void {
    const gate = this.options.gate;
    for (const served of this.versions.values()) {
      if (!gate) continue;
      const report = evaluateModel(served.model, gate.trusted, gate.bounds);
      const before = this.gates.get(served.version);
      this.gates.set(served.version, report);
      if (!report.passed || before?.passed === false) {
        this.emit(report.passed ? 'gate_passed' : 'gate_failed', served.version, report.failures.join('; '));
      }
    }
  }

  /** True when the version exists and passed its last gate (or no gate is configured). */
  servable(version: string): boolean {
    return this.versions.has(version) && this.gates.get(version)?.passed !== false;
  }

  async status(): Promise<ModelStatus> {
    const state = await this.state();
    return {
      model: this.name,
      versions: [...this.versions.keys()].map((version) => {
        const gate = this.gates.get(version);
        return { version, servable: this.servable(version), ...(gate ? { gate } : {}) };
      }),
      ...(state
        ? {
            rollout: {
              strategy: state.spec.strategy,
              status: state.status,
              step: state.stepIndex + 1,
              baseline: state.spec.baseline,
              ...('candidate' in state.spec ? { candidate: state.spec.candidate } : {}),
            },
          }
        : {}),
    };
  }

  /** Scores a batch of requests (already validated against `requestSchema`). */
  async predict(
    requests: ReadonlyArray<{ features: Record<string, number>; key?: string | undefined }>,
  ): Promise<Prediction[]> {
    const { answers, records, error } = this.answer(await this.state(), requests);
    // What was answered (and the failure) is counted before an error leaves; a counting failure must
    // not hide the error.
    if (error !== undefined) {
      await this.countBatch(records)?.catch(() => {});
      throw error;
    }
    await this.countBatch(records);
    return answers;
  }

  /**
   * `predict`'s answers when they need no wait — the rollout state is cached and the figures are summed
   * for a later write (`figuresFlushMs`) — else undefined (then call `predict`). Throws as `predict`
   * does. For a server's hot path, without a promise.
   */
  predictNow(
    requests: ReadonlyArray<{ features: Record<string, number>; key?: string | undefined }>,
  ): Prediction[] | undefined {
    if (this.options.figuresFlushMs === undefined) return undefined;
    const cached = this.rollout.peek();
    if (!cached) return undefined;
    const { answers, records, error } = this.answer(cached.state, requests);
    this.countBatch(records);
    if (error !== undefined) throw error;
    return answers;
  }

  /** Routes and scores a batch; stops at the first failure, with what was answered counted up to it. */
  private answer(
    state: StoredRollout | undefined,
    requests: ReadonlyArray<{ features: Record<string, number>; key?: string | undefined }>,
  ): { answers: Prediction[]; records: Array<RecordOutcome & { route: Route }>; error?: unknown } {
    // A running bandit routes by its rewards so far (the stored snapshot, reread with the state).
    const router = state ? routerFor(state, this.random) : undefined;
    const answers: Prediction[] = [];
    // The batch is counted as the batch lookups count theirs: one pipeline, one log entry (recordMany).
    const records: Array<RecordOutcome & { route: Route }> = [];
    for (const request of requests) {
      const names = this.options.featureNames;
      for (let i = 0; i < names.length; i++) this.row[i] = request.features[names[i]!]!;
      const key = request.key ?? `anonymous-${Math.floor(this.random.next() * 2 ** 48)}`;
      const chosen: Route = router ? router(key) : { arm: 'baseline', version: this.options.defaultVersion };
      if (chosen.arm === 'holdout') {
        answers.push({ version: null, arm: 'holdout', prediction: null });
        records.push({ route: chosen, key });
        continue;
      }
      const baseline = state?.spec.baseline ?? this.options.defaultVersion;
      let version = chosen.version;
      if (!this.servable(version)) {
        if (version === baseline || !this.servable(baseline)) {
          const error = new MlTasksError(
            'MODEL_INVALID',
            `${this.name}: no servable version (${version} failed its validity gate)`,
            { retryable: true },
          );
          return { answers, records, error };
        }
        this.emit('served_fallback', version, `answered by ${baseline}`);
        version = baseline;
      }
      let prediction: string | number;
      try {
        prediction = this.score(version);
      } catch (error) {
        if (chosen.version === version) records.push({ route: chosen, error: true, key });
        return { answers, records, error };
      }
      const answer: Prediction = { version, arm: version === chosen.version ? chosen.arm : 'baseline', prediction };
      // A second opinion for the disagreement guard: the shadow, or the baseline beside a candidate.
      const other = secondOpinion(chosen, version, baseline);
      let compared = false;
      let disagreed = false;
      if (other !== undefined && this.servable(other)) {
        const second = this.score(other);
        compared = true;
        disagreed = second !== prediction;
        if (chosen.shadow) answer.shadow = { version: other, prediction: second, agreed: !disagreed };
      }
      const counted: Route = version === chosen.version ? chosen : { arm: 'baseline', version };
      records.push({ route: counted, compared, disagreed, key });
      answers.push(answer);
    }
    return { answers, records };
  }

  /** Feedback on an answer a version gave (reward 1 right, 0 wrong): counted, and a bandit learns from it. */
  async feedback(version: string, reward: number): Promise<void> {
    if (!this.versions.has(version)) {
      throw new MlTasksError(
        'INVALID_ARGUMENT',
        `${this.name} has no version '${version}' (versions: ${[...this.versions.keys()].join(', ')})`,
      );
    }
    const state = await this.state();
    if (state?.status === 'running' && state.spec.strategy === 'bandit')
      await this.options.rollouts.reward(version, reward);
    else await this.options.rollouts.feedback(version, reward);
  }

  /** Writes the figures counted and not yet written; stops the interval. Call on shutdown. */
  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
  }

  /** Writes the figures counted and not yet written (with `figuresFlushMs`; otherwise there are none). */
  flush(): Promise<void> {
    const tally = this.unwritten;
    if (tally.requests === 0) return this.flushing;
    this.unwritten = this.options.rollouts.tally();
    this.flushing = this.flushing
      .then(() => this.options.rollouts.recordTally(tally))
      .catch((error: unknown) => this.emit('figures_write_failed', '', `${tally.requests} requests: ${String(error)}`));
    return this.flushing;
  }

  /**
   * Counts a request's rows: now, as one write (`recordMany`: one pipeline, one log entry; awaited by
   * predict), or into the next write with `figuresFlushMs`.
   */
  private countBatch(entries: Array<RecordOutcome & { route: Route }>): Promise<void> | undefined {
    if (entries.length === 0) return undefined;
    const flushMs = this.options.figuresFlushMs;
    if (flushMs === undefined) return this.options.rollouts.recordMany(entries);
    for (const entry of entries) this.unwritten.add(entry);
    if (!this.flushTimer) {
      this.flushTimer = setInterval(() => void this.flush(), flushMs);
      this.flushTimer.unref();
    }
    // A burst larger than a flush's worth is written at once, so a crash loses at most that many.
    if (this.unwritten.requests >= 10_000) void this.flush();
    return undefined;
  }

  /** Scores `this.row` with a version; the answer is the class label (or index), or the value. */
  private score(version: string): string | number {
    const served = this.versions.get(version)!;
    const model = served.model;
    if (model.isClassifier) {
      model.predictClassesInto(this.row, 1, this.classOut);
      const index = this.classOut[0]!;
      return served.labels?.[index] ?? index;
    }
    if (model.outputsPerRow === 1) {
      model.predictInto(this.row, 1, this.valueOut);
      return this.valueOut[0]!;
    }
    return model.predictRow(this.row)[0]!;
  }

  private state(): Promise<StoredRollout | undefined> {
    return this.rollout.get();
  }

  private emit(event: string, version: string, detail: string): void {
    this.options.onEvent?.({ event, model: this.name, ...(version ? { version } : {}), detail });
  }
}
