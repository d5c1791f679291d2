// The Redis StateStore: the system of record in distributed mode. Every change that must not be
// half-applied is one Lua script (lua/<command>-<keys>.lua); plain reads and single-key writes are
// single commands. The TypeScript side never reads, decides and writes back across round trips.
// Key layout: redis-keys.ts and docs/redis-keys.md.
import { Redis, type RedisOptions } from 'ioredis';
import { BatutaError } from '../../errors.js';
import { redactCredentials } from '../../util/redact-credentials.js';
import { toStoredJson } from '../json-value.js';
import type {
  DagRunRecord,
  LeaseInfo,
  PrunedRun,
  PruneRunsQuery,
  RunQuery,
  StateStore,
  StoreChange,
  StoreChangeListener,
  StoredEvent,
  TaskInstanceCell,
  TaskInstanceRecord,
  TaskTryRecord,
  Transition,
} from '../state-store.js';
import { changeOfTransition, outputKey } from '../state-store.js';
import { TASK_TRY_HISTORY_LIMIT, triesOfInstance } from '../task-tries.js';
import { decodePackedCells, decodeRecord, encodeNewRun, encodeTransition } from './redis-codec.js';
import { RedisKeys } from './redis-keys.js';
import { defineStoreScripts, type RedisStoreScripts } from './redis-scripts.js';

/**
 * The ioredis options the store uses for connections it opens itself, and recommends for one you
 * pass in. They make a lost connection an error instead of a hang or a silent second write:
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops, or issued while it is
 *   down, is rejected at the next failed reconnection attempt; it is never sent twice (a resent
 *   transition could apply twice, or fail its own guard and look like a conflict).
 * - `autoResendUnfulfilledCommands: false`: the same, said explicitly.
 * - `enableOfflineQueue: true`: a call made during a short reconnect waits for it rather than failing
 *   at once; the wait is bounded by the reconnect delay below.
 * - `retryStrategy`: reconnect forever, 100 ms doubling to at most 1 s, so a store created before a
 *   Redis restart works again after it on its own.
 * - `connectTimeout: 5000`: a dead host costs at most 5 s per attempt.
 * No `commandTimeout`: a large transition may take a while, and a timed-out write could still apply.
 */
export const redisStoreClientOptions = {
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  enableOfflineQueue: true,
  retryStrategy: (attempt: number) => Math.min(100 * 2 ** (attempt - 1), 1_000),
  connectTimeout: 5_000,
} satisfies RedisOptions;

/** ioredis options a store-owned connection may override (keys are the store's, replies stay RESP2-shaped). */
export type RedisClientOverrides = Omit<RedisOptions, 'keyPrefix' | 'replyMapping'>;

/** Joins a record's fields for createRuns; never raw in JSON text, nor in a record's field names. */
const FIELD_SEPARATOR = '\u0001';

/** Runs per createRuns script call. */
const CREATE_RUNS_BATCH = 100;

/** A store that opens its own connection to `url`, and closes it on `close()`. */
export interface RedisStateStoreUrlOptions {
  url: string;
  redis?: never;
  /** Overrides `redisStoreClientOptions`. */
  redisOptions?: RedisClientOverrides;
  /** Keys are `batuta:<namespace>:…`; default `default`. Letters, digits, `_ . -`, and `{…}` for a hash tag. */
  namespace?: string;
}

/** A store on a connection you own (and close); it should use `redisStoreClientOptions`. */
export interface RedisStateStoreConnectionOptions {
  redis: Redis;
  url?: never;
  /** Keys are `batuta:<namespace>:…`; default `default`. Letters, digits, `_ . -`, and `{…}` for a hash tag. */
  namespace?: string;
}

/** Where the store keeps its data: a connection you own, or a URL the store connects to. */
export type RedisStateStoreOptions = RedisStateStoreUrlOptions | RedisStateStoreConnectionOptions;

/**
 * The StateStore on Redis (6.2 or later: exclusive stream ranges).
 *
 * Values are JSON, validated exactly as the memory store validates them (`toStoredJson`), so both
 * accept and reject the same values. Run and instance guards, the run patch, outputs and the run
 * indexes change in one Lua script per transition. Leases compare the caller's `nowMs` with an expiry
 * stored in the lease (never the Redis clock), so an injected clock governs them. Event ids are Redis
 * stream ids (`<ms>-<seq>`, from the server clock, increasing within a stream).
 *
 * Errors: `STORE_UNAVAILABLE` when Redis cannot be reached or the connection drops during a call (a
 * write may or may not have been applied: read the state back before retrying), `STORE_REDIS_ERROR`
 * when Redis refuses a command, `STORE_CLOSED` after `close()`, and the memory store's codes for bad
 * values (`STORE_NOT_SERIALIZABLE`, `STORE_BAD_WRITE`, `STORE_BAD_LEASE`).
 */
export class RedisStateStore implements StateStore {
  /** The connection (yours if you passed `redis`). */
  readonly redis: Redis;
  /** The namespace's keys. */
  readonly keys: RedisKeys;
  private readonly ownsConnection: boolean;
  private readonly scripts: RedisStoreScripts;
  private lastConnectionError: Error | undefined;
  private closed = false;
  /** Told the operation (`getRun`, `applyTransition` …) and milliseconds of every round trip, for metrics. */
  onRoundTrip: ((operation: string, ms: number) => void) | undefined;
  /** Listeners of watchChanges, served by one subscriber connection while there is any. */
  private readonly changeListeners = new Set<StoreChangeListener>();
  private subscriber: Promise<Redis> | undefined;

  constructor(options: RedisStateStoreOptions) {
    this.keys = new RedisKeys(options.namespace ?? 'default');
    if (options.redis) {
      if (options.redis.options.keyPrefix) {
        throw new BatutaError(
          'STORE_BAD_OPTIONS',
          `the Redis connection has keyPrefix '${options.redis.options.keyPrefix}'; the store's scripts build ` +
            'keys that ioredis would not prefix, so pass a connection without keyPrefix and use `namespace`',
        );
      }
      this.redis = options.redis;
      this.ownsConnection = false;
    } else {
      this.redis = new Redis(options.url, {
        ...redisStoreClientOptions,
        ...options.redisOptions,
        replyMapping: 'legacy',
      });
      this.ownsConnection = true;
    }
    // Connection errors surface as rejected calls; remember the last one to say why. A connection
    // you pass in keeps its own error handling.
    if (this.ownsConnection) {
      this.redis.on('error', (error: Error) => {
        this.lastConnectionError = error;
      });
      this.redis.on('ready', () => {
        this.lastConnectionError = undefined;
      });
    }
    this.scripts = defineStoreScripts(this.redis);
  }

  /** Connects to `url` and waits until Redis answers; the store owns (and `close()` quits) the connection. */
  static async connect(options: RedisStateStoreUrlOptions): Promise<RedisStateStore> {
    const store = new RedisStateStore(options);
    try {
      await store.read('connect', () => store.redis.ping());
    } catch (error) {
      store.redis.disconnect();
      throw error;
    }
    return store;
  }

  async createRun(run: DagRunRecord): Promise<{ created: boolean; run: DagRunRecord }> {
    this.assertOpen();
    let encoded: ReturnType<typeof encodeNewRun>;
    try {
      encoded = encodeNewRun(run);
    } catch (error) {
      // As in the memory store, an existing run wins over a bad second attempt.
      const existing = await this.getRun(run.runId).catch(() => undefined);
      if (existing) return { created: false, run: existing };
      throw error;
    }
    const reply = (await this.write(`createRun of run '${run.runId}'`, () =>
      this.scripts.createRun(
        this.keys.runRecord(run.runId),
        this.keys.allRuns,
        this.keys.prefix,
        run.runId,
        encoded.score,
        encoded.dagIdJson,
        encoded.stateJson,
        encoded.fields,
      ),
    )) as [number | string, string[]?];
    if (Number(reply[0]) === 1) return { created: true, run: encoded.stored };
    return { created: false, run: decodeRecord<DagRunRecord>(reply[1] ?? [])! };
  }

  async createRuns(runs: readonly DagRunRecord[]): Promise<Array<{ created: boolean; run: DagRunRecord }>> {
    this.assertOpen();
    let encoded: Array<ReturnType<typeof encodeNewRun>>;
    try {
      encoded = runs.map((run) => encodeNewRun(run));
      // A field name holding the separator (not a DagRunRecord field) goes the one-by-one way below.
      if (encoded.some((run) => run.fields.some((text, i) => i % 2 === 0 && text.includes(FIELD_SEPARATOR)))) {
        throw new Error('separator in a field name');
      }
    } catch {
      // A run that cannot be stored: give exactly createRun's outcome, run by run (and its error).
      const results: Array<{ created: boolean; run: DagRunRecord }> = [];
      for (const run of runs) results.push(await this.createRun(run));
      return results;
    }
    // Bounded batches, all sent at once: one script call blocks Redis for its whole length (~10 µs a run).
    const batches: Array<Promise<Array<{ created: boolean; run: DagRunRecord }>>> = [];
    for (let start = 0; start < encoded.length; start += CREATE_RUNS_BATCH) {
      const batch = encoded.slice(start, start + CREATE_RUNS_BATCH);
      const args: Array<string | number> = [this.keys.prefix];
      for (const [index, run] of batch.entries()) {
        const runId = runs[start + index]!.runId;
        // One argument for all fields: thousands of arguments per call cost more than the script's split.
        args.push(runId, run.score, run.dagIdJson, run.stateJson, run.fields.join(FIELD_SEPARATOR));
      }
      batches.push(
        this.write(`createRuns of ${batch.length} runs`, () => this.scripts.createRuns(this.keys.allRuns, args)).then(
          (reply) =>
            batch.map((run, index) => {
              const entry = (reply as Array<number | string[]>)[index];
              return Array.isArray(entry)
                ? { created: false, run: decodeRecord<DagRunRecord>(entry)! }
                : { created: true, run: run.stored };
            }),
        ),
      );
    }
    return (await Promise.all(batches)).flat();
  }

  async getRun(runId: string): Promise<DagRunRecord | undefined> {
    const fields = await this.read(`getRun of run '${runId}'`, () => this.redis.hgetall(this.keys.runRecord(runId)));
    return decodeRecord<DagRunRecord>(fields);
  }

  /** Newest logical date first; equal logical dates in ascending runId (byte) order. */
  async listRuns(query: RunQuery = {}): Promise<DagRunRecord[]> {
    this.assertOpen();
    const states = query.states === undefined ? undefined : [...new Set(query.states)];
    if (states?.length === 0) return [];
    // Like Array.prototype.slice: fractions truncate, negatives and NaN list nothing.
    const limit = query.limit === undefined ? -1 : Math.max(0, Math.trunc(query.limit) || 0);
    if (limit === 0) return [];
    const args = [
      this.keys.prefix,
      limit === Number.POSITIVE_INFINITY ? -1 : limit,
      query.dagId === undefined ? '0' : '1',
      query.dagId === undefined ? '' : JSON.stringify(query.dagId),
      query.before === undefined ? '' : String(-query.before.logicalDateMs),
      query.before === undefined ? '' : query.before.runId,
      ...(states ?? []).map((state) => JSON.stringify(state)),
    ];
    const reply = (await this.read('listRuns', () => this.scripts.listRuns(this.keys.allRuns, args))) as string[][];
    const runs: DagRunRecord[] = [];
    for (const fields of reply) {
      const record = decodeRecord<DagRunRecord>(fields);
      if (record) runs.push(record);
    }
    return runs;
  }

  async applyTransition(runId: string, transition: Transition): Promise<boolean> {
    this.assertOpen();
    const args = encodeTransition(runId, transition);
    // The change notice without its DAG id, which the script reads from the run record and puts first.
    const change = changeOfTransition(runId, '', transition);
    if (change) {
      const { dagId: _filledInByTheScript, ...rest } = change;
      args.push(JSON.stringify(rest));
    } else {
      args.push('');
    }
    const reply = await this.write(`applyTransition on run '${runId}'`, () =>
      this.scripts.applyTransition(
        this.keys.runRecord(runId),
        this.keys.taskInstances(runId),
        this.keys.taskOutputs(runId),
        this.keys.allRuns,
        this.keys.taskCells(runId),
        this.keys.packedCells(runId),
        this.keys.taskTries(runId),
        this.keys.prefix,
        runId,
        args,
      ),
    );
    return Number(reply) === 1;
  }

  async pruneRuns(query: PruneRunsQuery): Promise<PrunedRun[]> {
    this.assertOpen();
    const limit = Math.max(0, Math.trunc(query.limit) || 0);
    if (limit === 0 || !Number.isFinite(query.endedBeforeMs)) return [];
    const args = [
      this.keys.prefix,
      String(query.endedBeforeMs),
      `(${-query.endedBeforeMs}`,
      limit,
      query.dryRun ? '1' : '0',
      query.dagId === undefined ? '' : JSON.stringify(query.dagId),
    ];
    const reply = (await this.write(`pruneRuns of ${limit} runs`, () =>
      this.scripts.pruneRuns(this.keys.allRuns, args),
    )) as string[][];
    return reply.map((fields) => {
      const record = decodeRecord<DagRunRecord>(fields)!;
      return {
        runId: record.runId,
        dagId: record.dagId,
        state: record.state,
        logicalDateMs: record.logicalDateMs,
        ...(record.endMs === undefined ? {} : { endMs: record.endMs }),
      };
    });
  }

  async getTaskInstances(runId: string): Promise<TaskInstanceRecord[]> {
    const values = await this.read(`getTaskInstances of run '${runId}'`, () =>
      this.redis.hvals(this.keys.taskInstances(runId)),
    );
    return values.map((json) => JSON.parse(json) as TaskInstanceRecord);
  }

  async getTaskInstance(runId: string, taskId: string, mapIndex: number): Promise<TaskInstanceRecord | undefined> {
    const json = await this.read(`getTaskInstance of run '${runId}'`, () =>
      this.redis.hget(this.keys.taskInstances(runId), outputKey(taskId, mapIndex)),
    );
    return json === null ? undefined : (JSON.parse(json) as TaskInstanceRecord);
  }

  /** The instance and its kept tries in one atomic read (getTaskTries-2.lua). */
  async getTaskTries(runId: string, taskId: string, mapIndex: number): Promise<TaskTryRecord[]> {
    const reply = (await this.read(`getTaskTries of '${taskId}' in run '${runId}'`, () =>
      this.scripts.getTaskTries(
        this.keys.taskInstances(runId),
        this.keys.taskTries(runId),
        outputKey(taskId, mapIndex),
        TASK_TRY_HISTORY_LIMIT,
      ),
    )) as Array<string | null>;
    const [instance, ...history] = reply;
    if (!instance) return [];
    return triesOfInstance(
      history.map((json) => JSON.parse(json!) as TaskTryRecord),
      JSON.parse(instance) as TaskInstanceRecord,
    );
  }

  /**
   * One script call for the whole page (getRunCells-0.lua): each run's cells as one packed text. A run
   * without cells (no instances yet, or instances written by a Batuta from before the cells) is
   * answered from its instances, in one more pipelined read for all such runs.
   */
  async getRunCells(runIds: readonly string[]): Promise<TaskInstanceCell[][]> {
    this.assertOpen();
    if (runIds.length === 0) return [];
    const what = `getRunCells of ${runIds.length} run(s)`;
    const packed = (await this.read(what, () => this.scripts.getRunCells(this.keys.prefix, [...runIds]))) as string[];
    const result = packed.map((text) => decodePackedCells(text));
    const unpacked = runIds.flatMap((runId, index) => (result[index] === undefined ? [{ runId, index }] : []));
    if (unpacked.length > 0) {
      const replies = await this.read(what, async () => {
        const pipeline = this.redis.pipeline();
        for (const { runId } of unpacked) pipeline.hvals(this.keys.taskInstances(runId));
        return (await pipeline.exec()) ?? [];
      });
      for (const [k, { index }] of unpacked.entries()) {
        const [error, values] = replies[k] ?? [new Error('no reply')];
        if (error) throw this.explain(error, what, false);
        result[index] = (values as string[]).map((json) => {
          const { taskId, mapIndex, state, tryNumber } = JSON.parse(json) as TaskInstanceRecord;
          return { taskId, mapIndex, state, tryNumber };
        });
      }
    }
    return result as TaskInstanceCell[][];
  }

  async getOutputs(runId: string, keys: Array<{ taskId: string; mapIndex: number }>): Promise<Map<string, unknown>> {
    this.assertOpen();
    const result = new Map<string, unknown>();
    if (keys.length === 0) return result;
    const fields = keys.map(({ taskId, mapIndex }) => outputKey(taskId, mapIndex));
    // One argument list, not a spread: a mapped task may read thousands of outputs.
    const values = (await this.read(`getOutputs of run '${runId}'`, () =>
      this.redis.call('HMGET', [this.keys.taskOutputs(runId), ...fields]),
    )) as Array<string | null>;
    for (let i = 0; i < fields.length; i++) {
      const json = values[i];
      if (json !== null && json !== undefined) result.set(fields[i]!, JSON.parse(json));
    }
    return result;
  }

  async appendEvent(stream: string, type: string, payload: unknown, atMs: number): Promise<string> {
    this.assertOpen();
    const what = `payload of event '${type}' on stream '${stream}'`;
    toStoredJson({ type, atMs }, what);
    const payloadJson = toStoredJson(payload === undefined ? null : payload, what);
    const id = await this.write(`appendEvent on stream '${stream}'`, () =>
      this.redis.xadd(
        this.keys.stream(stream),
        '*',
        'type',
        type,
        'payload',
        payloadJson,
        'atMs',
        JSON.stringify(atMs),
      ),
    );
    return id!;
  }

  async readEvents(stream: string, afterId?: string, limit?: number): Promise<StoredEvent[]> {
    this.assertOpen();
    if (limit !== undefined && !(limit > 0)) return [];
    if (afterId !== undefined) this.checkEventId(afterId);
    const key = this.keys.stream(stream);
    const start = afterId === undefined ? '-' : `(${afterId}`;
    const entries = await this.read(`readEvents on stream '${stream}'`, () =>
      limit === undefined || limit === Number.POSITIVE_INFINITY
        ? this.redis.xrange(key, start, '+')
        : this.redis.xrange(key, start, '+', 'COUNT', Math.ceil(limit)),
    );
    return entries.map(([id, fields]) => {
      const event: StoredEvent = { id, type: '', payload: null, atMs: 0 };
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const value = fields[i + 1]!;
        switch (fields[i]) {
          case 'type':
            event.type = value;
            break;
          case 'payload':
            event.payload = JSON.parse(value);
            break;
          case 'atMs':
            event.atMs = JSON.parse(value) as number;
            break;
        }
      }
      return event;
    });
  }

  async trimEvents(stream: string, throughId: string): Promise<number> {
    const [ms, seq = '0'] = this.checkEventId(throughId).split('-');
    // XTRIM MINID keeps ids at or above its argument: the id right after `throughId`.
    const reply = await this.write(`trimEvents on stream '${stream}'`, () =>
      this.redis.xtrim(this.keys.stream(stream), 'MINID', `${ms}-${BigInt(seq) + 1n}`),
    );
    return Number(reply);
  }

  async getCursor(name: string): Promise<string | undefined> {
    const id = await this.read(`getCursor '${name}'`, () => this.redis.hget(this.keys.cursors, name));
    return id ?? undefined;
  }

  async advanceCursor(name: string, eventId: string): Promise<void> {
    this.checkEventId(eventId);
    await this.write(`advanceCursor '${name}'`, () => this.scripts.advanceCursor(this.keys.cursors, name, eventId));
  }

  async acquireLease(name: string, owner: string, ttlMs: number, nowMs: number): Promise<boolean> {
    this.assertOpen();
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new BatutaError('STORE_BAD_LEASE', `lease '${name}': ttlMs must be a positive number, got ${ttlMs}`);
    }
    if (!Number.isFinite(nowMs)) {
      throw new BatutaError('STORE_BAD_LEASE', `lease '${name}': nowMs must be a finite number, got ${nowMs}`);
    }
    const reply = await this.write(`acquireLease of lease '${name}'`, () =>
      this.scripts.acquireLease(this.keys.lease(name), owner, String(nowMs), String(nowMs + ttlMs)),
    );
    return Number(reply) === 1;
  }

  async releaseLease(name: string, owner: string): Promise<boolean> {
    const reply = await this.write(`releaseLease of lease '${name}'`, () =>
      this.scripts.releaseLease(this.keys.lease(name), owner),
    );
    return Number(reply) === 1;
  }

  async getLeaseOwner(name: string, nowMs: number): Promise<string | undefined> {
    const [owner, expiresMs] = await this.read(`getLeaseOwner of lease '${name}'`, () =>
      this.redis.hmget(this.keys.lease(name), 'owner', 'expiresMs'),
    );
    return owner != null && expiresMs != null && nowMs < Number(expiresMs) ? owner : undefined;
  }

  async getLease(name: string, nowMs: number): Promise<LeaseInfo | undefined> {
    const [owner, renewedMs, expiresMs] = await this.read(`getLease of lease '${name}'`, () =>
      this.redis.hmget(this.keys.lease(name), 'owner', 'renewedMs', 'expiresMs'),
    );
    if (owner == null || expiresMs == null || !(nowMs < Number(expiresMs))) return undefined;
    // A lease written before renewedMs was kept: its renewal time is unknown, so its expiry stands in.
    return { owner, renewedMs: Number(renewedMs ?? expiresMs), expiresMs: Number(expiresMs) };
  }

  async setDagPaused(dagId: string, paused: boolean): Promise<void> {
    // Known in the same step: a scheduler seeing the DAG for the first time afterwards leaves the flag alone.
    await this.write(`setDagPaused of DAG '${dagId}'`, () => {
      const step = this.redis.multi().sadd(this.keys.knownDags, dagId);
      return (paused ? step.sadd(this.keys.pausedDags, dagId) : step.srem(this.keys.pausedDags, dagId)).exec();
    });
  }

  async registerDags(dags: ReadonlyArray<{ dagId: string; pausedOnCreation: boolean }>): Promise<string[]> {
    if (dags.length === 0) return [];
    const args = dags.flatMap((dag) => [dag.dagId, dag.pausedOnCreation ? '1' : '0']);
    const reply = await this.write(`registerDags of ${dags.length} DAG(s)`, () =>
      this.scripts.registerDags(this.keys.knownDags, this.keys.pausedDags, this.keys.prefix, args),
    );
    return (reply as string[]).map(String);
  }

  async isDagPaused(dagId: string): Promise<boolean> {
    const member = await this.read(`isDagPaused of DAG '${dagId}'`, () =>
      this.redis.sismember(this.keys.pausedDags, dagId),
    );
    return Number(member) === 1;
  }

  /**
   * Later calls throw `STORE_CLOSED`. A connection the store opened is closed too: with QUIT (after
   * the replies still due) when it is up, at once when it is not. A connection you passed in stays open.
   */
  async watchChanges(listener: StoreChangeListener): Promise<() => Promise<void>> {
    this.assertOpen();
    const own: StoreChangeListener = (change) => listener(change);
    this.changeListeners.add(own);
    try {
      await this.subscribe();
    } catch (error) {
      this.changeListeners.delete(own);
      throw error;
    }
    return async () => {
      if (!this.changeListeners.delete(own)) return;
      if (this.changeListeners.size === 0) await this.unsubscribe();
    };
  }

  /** One subscriber connection for every listener of this store (ioredis resubscribes after a reconnect). */
  private subscribe(): Promise<Redis> {
    this.subscriber ??= (async () => {
      const connection = this.redis.duplicate();
      connection.on('error', () => {
        // Reconnects on its own; notices sent meanwhile are lost, as pub/sub promises.
      });
      connection.on('message', (channel: string, message: string) => {
        if (channel !== this.keys.changes) return;
        let change: StoreChange;
        try {
          change = JSON.parse(message) as StoreChange;
        } catch {
          return;
        }
        for (const each of this.changeListeners) {
          try {
            each(change);
          } catch {
            // A listener's failure is its own.
          }
        }
      });
      try {
        await this.read('subscribe to changes', () => connection.subscribe(this.keys.changes));
      } catch (error) {
        connection.disconnect();
        this.subscriber = undefined;
        throw error;
      }
      return connection;
    })();
    return this.subscriber;
  }

  private async unsubscribe(): Promise<void> {
    const pending = this.subscriber;
    this.subscriber = undefined;
    if (!pending) return;
    const connection = await pending.catch(() => undefined);
    if (!connection) return;
    try {
      await connection.quit();
    } catch {
      connection.disconnect();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changeListeners.clear();
    await this.unsubscribe();
    if (!this.ownsConnection || this.redis.status === 'end') return;
    if (this.redis.status === 'ready') {
      try {
        await this.redis.quit();
        return;
      } catch {
        // The connection dropped while quitting: stop reconnecting below.
      }
    }
    this.redis.disconnect();
  }

  private assertOpen(): void {
    if (this.closed) throw new BatutaError('STORE_CLOSED', 'the Redis state store was closed; create a new one');
  }

  /** An event id as Redis writes them (`<ms>-<seq>`, or `<ms>`), or STORE_BAD_EVENT_ID. */
  private checkEventId(id: string): string {
    if (!/^\d+(-\d+)?$/.test(id)) {
      throw new BatutaError(
        'STORE_BAD_EVENT_ID',
        `'${id}' is not an event id of the Redis store (ids look like 1712345678901-0); ` +
          'pass an id that appendEvent or readEvents returned',
      );
    }
    return id;
  }

  /** Runs one reading Redis call; a failure becomes a BatutaError that says what failed and why. */
  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const started = this.onRoundTrip ? performance.now() : 0;
    try {
      return await call();
    } catch (error) {
      throw this.explain(error, what, false);
    } finally {
      if (this.onRoundTrip) this.onRoundTrip(what.split(' ', 1)[0]!, performance.now() - started);
    }
  }

  /** Runs one writing Redis call; a lost connection leaves its outcome unknown, and the error says so. */
  private async write<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const started = this.onRoundTrip ? performance.now() : 0;
    try {
      return await call();
    } catch (error) {
      throw this.explain(error, what, true);
    } finally {
      if (this.onRoundTrip) this.onRoundTrip(what.split(' ', 1)[0]!, performance.now() - started);
    }
  }

  private explain(error: unknown, what: string, writes: boolean): BatutaError {
    if (error instanceof BatutaError) return error;
    // A connection error may quote the URL it was given, password included.
    const message = redactCredentials(error instanceof Error ? error.message : String(error));
    const where = `${this.redis.options.host ?? '?'}:${this.redis.options.port ?? '?'}`;
    if (error instanceof Error && error.name === 'ReplyError') {
      return new BatutaError('STORE_REDIS_ERROR', `Redis at ${where} refused ${what}: ${message}`, { cause: error });
    }
    const reason = this.lastConnectionError ? ` (${redactCredentials(this.lastConnectionError.message)})` : '';
    if (what === 'connect') {
      return new BatutaError(
        'STORE_UNAVAILABLE',
        `could not connect to Redis at ${where}${reason}; is redis-server running there, and is the URL right?`,
        { cause: error },
      );
    }
    return new BatutaError(
      'STORE_UNAVAILABLE',
      `Redis at ${where} did not complete ${what}: the connection is down or was lost${reason}.` +
        (writes
          ? ' The write may or may not have been applied: read the state back before retrying.'
          : ' Retry once Redis is back; the client reconnects on its own.'),
      { cause: error },
    );
  }
}
