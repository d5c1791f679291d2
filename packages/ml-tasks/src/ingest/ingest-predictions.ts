// Writing predictions to Redis: MSET batches sent back to back (pipelined, a bounded number in
// flight), then — for the versioned layout — one atomic script that marks the version complete
// and switches `current` to it (unless `activate: false`: a rollout's candidate is committed complete
// but not served, and reaches consumers only through the rollout, by version, until promoted). `current` moves only after every batch is acknowledged, so a
// crash at any point before leaves consumers on the previous complete set; re-running the same
// version rewrites the same keys (or, once complete, skips them) and commits: the run is idempotent.
// Before `current` moves, the ingest safety gate weighs the batch against the version served now
// (see ingest-safety-gate.ts): an empty or much smaller batch is refused unless forced.
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';
import { type KeyScheme, PYTHON_TEXT_SCHEME } from '../keys/key-schemes.js';
import type { RowKeyEncoder } from '../keys/row-key-encoder.js';
import { checkMinKeepShare, type IngestGateRecord, ingestSafetyVerdict } from './ingest-safety-gate.js';
import { MsetEncoder, sendEncodedMset } from './mset-command.js';
import { deleteMatching, PredictionSets, parseVersionMeta, versionMetaFields } from './prediction-sets.js';
import { checkName, DEFAULT_NAMESPACE, PredictionKeys, type PredictionLayout } from './redis-layout.js';
import { COMMIT_VERSION_7, runScript } from './scripts.js';

/** How to write one model's predictions. */
export interface IngestOptions {
  model: string;
  /** Required for the versioned layout: the name of this prediction set (e.g. the run's logical date). */
  version?: string;
  /** `versioned` (default): a new set per version behind an atomic `current`; `plain`: bare keys as the original. */
  layout?: PredictionLayout;
  namespace?: string;
  /** Key/value pairs per MSET (default 5,000). */
  batchSize?: number;
  /** MSET commands awaiting their reply at once (default 8). */
  maxInFlight?: number;
  /** Complete versions kept; older ones are deleted after the switch (default 3; 0 keeps all). */
  keep?: number;
  /** Recorded so that consumers hash exactly as the ingest did (default python-text). */
  keyScheme?: KeyScheme;
  /** Class names (index = class), recorded in the metadata for consumers. */
  classNames?: readonly string[];
  featureCount?: number;
  /** Plain layout only: prepended to every key (default '', bare keys like the original). */
  prefix?: string;
  /** Rows the run will write, when known: a complete version with another count is a VERSION_CONFLICT. */
  expectedRows?: number;
  /** The clock, in ms since the epoch (default Date.now). */
  now?: () => number;
  /** Versioned: refuse a batch with fewer rows than this share of the current version's (default 0.5; 0 = off). */
  minKeepShare?: number;
  /** Commit even a batch the safety gate refuses (0 rows, or below minKeepShare); recorded on the version. */
  force?: boolean;
  /**
   * Versioned: switch `current` to the version at commit (default true). False commits it complete and
   * listed without serving it: a rollout routes to it by version, and its promote switches `current`.
   */
  activate?: boolean;
}

/** What an ingest did. */
export interface IngestResult {
  model: string;
  layout: PredictionLayout;
  version?: string;
  rows: number;
  /** The version `current` pointed at before, if any. */
  previous?: string;
  /** Versioned: whether `current` now points at this version (false after `activate: false`). */
  activated?: boolean;
  /** Versions deleted by the retention policy. */
  evicted: string[];
  /** True when the version was already complete and nothing was rewritten. */
  skipped: boolean;
  elapsedMs: number;
  /** What the ingest safety gate decided (absent when the version was already current). */
  gate?: IngestGateRecord;
}

// The version consumers read now and its row count, for the safety gate; {} when there is none.
async function servedRows(
  redis: Redis,
  keys: PredictionKeys,
  current: string | null,
): Promise<{ previousVersion?: string; previousRows?: number }> {
  if (current === null) return {};
  const meta = parseVersionMeta(current, await redis.hgetall(keys.meta(current)));
  return meta ? { previousVersion: current, previousRows: meta.rows } : {};
}

/** A streaming writer: `open`, any number of `write`s, then `commit` (or `abort`). */
export class PredictionWriter {
  readonly model: string;
  readonly layout: PredictionLayout;
  readonly version: string | undefined;
  /** True when the version was already complete: writes are skipped, commit re-points `current`. */
  readonly skipped: boolean;
  private readonly redis: Redis;
  private readonly keys: PredictionKeys;
  private readonly prefix: string;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly keep: number;
  private readonly now: () => number;
  private readonly minKeepShare: number | undefined;
  private readonly force: boolean;
  private readonly activate: boolean;
  private readonly startedAtMs: number;
  private readonly inFlight: Promise<void>[] = [];
  /** Encodes MSETs directly; undefined when the client adds its own keyPrefix (then plain mset). */
  private readonly encoder: MsetEncoder | undefined;
  private failure: unknown;
  private rows = 0;
  private closed = false;

  private constructor(redis: Redis, options: IngestOptions, layout: PredictionLayout, skipped: boolean) {
    this.redis = redis;
    this.model = options.model;
    this.layout = layout;
    this.version = options.version;
    this.skipped = skipped;
    this.keys = new PredictionKeys(options.namespace ?? DEFAULT_NAMESPACE, options.model);
    this.prefix = layout === 'plain' ? (options.prefix ?? '') : this.keys.versionPrefix(options.version as string);
    this.batchSize = options.batchSize ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 8;
    this.keep = options.keep ?? 3;
    this.now = options.now ?? Date.now;
    this.minKeepShare = options.minKeepShare;
    this.force = options.force ?? false;
    this.activate = options.activate ?? true;
    this.startedAtMs = this.now();
    this.encoder = redis.options.keyPrefix ? undefined : new MsetEncoder(this.prefix);
  }

  /** Starts an ingest: records the layout and, for a versioned set, marks the version as being written. */
  static async open(redis: Redis, options: IngestOptions): Promise<PredictionWriter> {
    const layout = options.layout ?? 'versioned';
    const keys = new PredictionKeys(options.namespace ?? DEFAULT_NAMESPACE, options.model);
    if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize > 0)) {
      throw new MlTasksError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${options.batchSize}`);
    }
    if (options.minKeepShare !== undefined) checkMinKeepShare(options.minKeepShare);
    const gate = { model: options.model, minKeepShare: options.minKeepShare, force: options.force };
    const keyScheme = options.keyScheme ?? PYTHON_TEXT_SCHEME;
    const classNames = options.classNames ? [...options.classNames] : undefined;
    const recorded = await redis.hget(keys.layout, 'layout');
    if (recorded && recorded !== layout) {
      throw new MlTasksError(
        'VERSION_CONFLICT',
        `${options.model} was ingested with the ${recorded} layout; write ${layout} predictions under another model name`,
      );
    }
    if (layout === 'plain') {
      // Plain keys are only ever overwritten, never removed, so only an empty batch is refused here.
      if (options.expectedRows !== undefined) ingestSafetyVerdict({ ...gate, rows: options.expectedRows });
      await redis.hset(keys.layout, {
        layout: 'plain',
        keyScheme: JSON.stringify(keyScheme),
        prefix: options.prefix ?? '',
        ...(classNames ? { classNames: JSON.stringify(classNames) } : {}),
        ...(options.featureCount === undefined ? {} : { featureCount: String(options.featureCount) }),
      });
      return new PredictionWriter(redis, options, layout, false);
    }
    if (options.version === undefined) {
      throw new MlTasksError(
        'INVALID_ARGUMENT',
        'a versioned ingest needs a version (e.g. the run id or logical date)',
      );
    }
    const version = checkName('version', options.version);
    const existing = parseVersionMeta(version, await redis.hgetall(keys.meta(version)));
    const current = await redis.get(keys.current);
    if (options.expectedRows !== undefined && current !== version) {
      // Refuse before writing a single key when the size is known up front; commit checks again.
      ingestSafetyVerdict({ ...gate, rows: options.expectedRows, ...(await servedRows(redis, keys, current)) });
    }
    if (existing?.status === 'complete') {
      if (options.expectedRows !== undefined && existing.rows !== options.expectedRows) {
        throw new MlTasksError(
          'VERSION_CONFLICT',
          `version ${version} of ${options.model} is complete with ${existing.rows} rows; this run has ${options.expectedRows}. Versions are immutable: ingest under a new version`,
          { details: { version, existingRows: existing.rows, rows: options.expectedRows } },
        );
      }
      return new PredictionWriter(redis, options, layout, true);
    }
    if (existing?.status === 'writing') {
      // A crashed attempt left part of this version: start from nothing, so the set ends up exactly
      // this run's predictions even if the input changed in between.
      await deleteMatching(redis, `${keys.versionPrefix(version)}*`);
    }
    const writer = new PredictionWriter(redis, options, layout, false);
    await redis.hset(keys.layout, 'layout', 'versioned');
    await redis.zadd(keys.pending, writer.startedAtMs, version);
    await redis.hset(
      keys.meta(version),
      versionMetaFields({
        version,
        status: 'writing',
        rows: 0,
        keyScheme,
        ...(classNames ? { classNames } : {}),
        ...(options.featureCount === undefined ? {} : { featureCount: options.featureCount }),
        startedAtMs: writer.startedAtMs,
      }),
    );
    return writer;
  }

  /** Queues `keys[i] → labels[i]` for rows [start, end); waits only when too many batches are in flight. */
  async write(keys: readonly string[], labels: readonly string[], start = 0, end = keys.length): Promise<void> {
    this.checkOpen(labels, end);
    this.rows += end - start;
    if (this.skipped) return;
    for (let at = start; at < end; at += this.batchSize) {
      const stop = Math.min(end, at + this.batchSize);
      if (this.encoder) {
        const payload = this.encoder.encodeStrings(keys, labels, at, stop);
        await this.send(sendEncodedMset(this.redis, payload), payload);
        continue;
      }
      const args = new Array<string>((stop - at) * 2);
      let i = 0;
      for (let row = at; row < stop; row++) {
        args[i++] = this.prefix + keys[row];
        args[i++] = labels[row] as string;
      }
      await this.send(this.redis.mset(args));
    }
  }

  /**
   * Like `write`, for `count` keys packed as ASCII at `stride` bytes each (RowKeyEncoder's output
   * without prefix), with labels[labelStart + i]: no string per key is ever built.
   */
  async writePacked(
    keys: Uint8Array,
    stride: number,
    count: number,
    labels: readonly string[],
    labelStart = 0,
  ): Promise<void> {
    if (!this.encoder) {
      const strings = Array.from({ length: count }, (_, i) =>
        Buffer.from(keys.buffer, keys.byteOffset + i * stride, stride).toString('latin1'),
      );
      return this.write(strings, labels.slice(labelStart, labelStart + count));
    }
    this.checkOpen(labels, labelStart + count);
    this.rows += count;
    if (this.skipped) return;
    for (let at = 0; at < count; at += this.batchSize) {
      const batch = Math.min(count - at, this.batchSize);
      const payload = this.encoder.encodePacked(
        keys.subarray(at * stride, (at + batch) * stride),
        stride,
        batch,
        labels,
        labelStart + at,
      );
      await this.send(sendEncodedMset(this.redis, payload), payload);
    }
  }

  /**
   * Keys rows [start, end) of a table with `keyWriter` (a RowKeyEncoder without prefix) straight
   * into the command bytes and queues them with `labels[i - start]`: the fastest path.
   */
  async writeRows(
    keyWriter: RowKeyEncoder,
    data: ArrayLike<number>,
    width: number,
    start: number,
    end: number,
    features: { offset: number; length: number },
    labels: readonly string[],
  ): Promise<void> {
    if (!this.encoder || keyWriter.prefix !== '') {
      const keys = keyWriter.strings(data, width, start, end, features);
      return this.write(keys, labels, 0, end - start);
    }
    this.checkOpen(labels, end - start);
    this.rows += end - start;
    if (this.skipped) return;
    for (let at = start; at < end; at += this.batchSize) {
      const stop = Math.min(end, at + this.batchSize);
      const payload = this.encoder.encodeRows(keyWriter, data, width, at, stop, features, labels, at - start);
      await this.send(sendEncodedMset(this.redis, payload), payload);
    }
  }

  private checkOpen(labels: readonly string[], end: number): void {
    if (this.closed) throw new MlTasksError('INVALID_ARGUMENT', 'this ingest is already committed or aborted');
    if (labels.length < end) throw new MlTasksError('INVALID_ARGUMENT', `${end} keys but ${labels.length} labels`);
  }

  // Tracks one batch in flight; waits for the oldest when too many are. Once Redis has answered,
  // the command's bytes were written and its buffer can serve a later batch.
  private async send(reply: Promise<unknown>, payload?: Uint8Array): Promise<void> {
    this.inFlight.push(
      reply.then(
        () => {
          if (payload) this.encoder?.release(payload);
        },
        (error: unknown) => {
          this.failure ??= error;
        },
      ),
    );
    if (this.inFlight.length >= this.maxInFlight) await this.inFlight.shift();
    this.throwIfFailed();
  }

  /** Waits for every batch, then (versioned) marks the version complete, switches `current` to it unless
   *  `activate: false`, and applies retention (which never evicts `current` or a rollout's versions). */
  async commit(): Promise<IngestResult> {
    await this.drain();
    this.closed = true;
    const base = { model: this.model, layout: this.layout, rows: this.rows, skipped: this.skipped };
    const gateInput = { model: this.model, rows: this.rows, minKeepShare: this.minKeepShare, force: this.force };
    if (this.layout === 'plain') {
      const gate = ingestSafetyVerdict(gateInput);
      await this.redis.hset(this.keys.layout, 'rows', String(this.rows));
      return { ...base, evicted: [], elapsedMs: this.now() - this.startedAtMs, gate };
    }
    const version = this.version as string;
    const current = await this.redis.get(this.keys.current);
    const sets = new PredictionSets(this.redis, { model: this.model, namespace: this.keys.namespace });
    let gate: IngestGateRecord | undefined;
    if (current !== version) {
      try {
        gate = ingestSafetyVerdict({ ...gateInput, ...(await servedRows(this.redis, this.keys, current)) });
      } catch (error) {
        // A refused batch must not linger as a half-made version: drop what it wrote.
        if (!this.skipped) await sets.deleteVersion(version);
        throw error;
      }
    }
    if (!this.skipped) {
      await this.redis.hset(this.keys.meta(version), {
        rows: String(this.rows),
        ...(gate ? { gate: JSON.stringify(gate) } : {}),
      });
      // Served because the operator insisted, but never a version to roll back to.
      if (gate?.verdict === 'forced' && gate.rows === 0) await sets.markBad(version, 'forced in with 0 rows');
    }
    const [previous, ...evicted] = (await runScript(
      this.redis,
      COMMIT_VERSION_7,
      [
        this.keys.meta(version),
        this.keys.current,
        this.keys.versions,
        this.keys.seq,
        this.keys.pending,
        this.keys.activations,
        this.keys.rollout,
      ],
      [version, this.now(), this.keep, this.activate ? '1' : '0'],
    )) as string[];
    for (const old of evicted) await sets.deleteVersion(old);
    return {
      ...base,
      version,
      ...(previous ? { previous } : {}),
      activated: this.activate || previous === version,
      evicted,
      elapsedMs: this.now() - this.startedAtMs,
      ...(gate ? { gate } : {}),
    };
  }

  /** Waits for the batches in flight and leaves `current` where it is. */
  async abort(): Promise<void> {
    this.closed = true;
    await Promise.all(this.inFlight.splice(0));
  }

  private async drain(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure === undefined) return;
    const cause = this.failure as Error;
    this.closed = true;
    throw new MlTasksError(
      'INGEST_FAILED',
      `writing predictions of ${this.model}${this.version ? ` version ${this.version}` : ''} failed: ${cause.message}; current was not switched`,
      { cause, retryable: true },
    );
  }
}

/** Writes a whole prediction set: `keys[i] → labels[i]`, batched, then committed (see PredictionWriter). */
export async function ingestPredictions(
  redis: Redis,
  options: IngestOptions & { keys: readonly string[]; labels: readonly string[] },
): Promise<IngestResult> {
  const { keys, labels, ...rest } = options;
  if (keys.length !== labels.length) {
    throw new MlTasksError('INVALID_ARGUMENT', `${keys.length} keys but ${labels.length} labels`);
  }
  const writer = await PredictionWriter.open(redis, { expectedRows: keys.length, ...rest });
  await writer.write(keys, labels);
  return writer.commit();
}
