// The Redis key layout of one namespace. Every key the Redis state store touches starts with
// `batuta:<namespace>:`; docs/redis-keys.md has the same table for operators.
//
//   batuta:<ns>:run:<runId>:record               hash    one field per run property → that property's JSON
//   batuta:<ns>:run:<runId>:ti                   hash    <taskId>#<mapIndex> → instance JSON ("state" first)
//   batuta:<ns>:run:<runId>:out                  hash    <taskId>#<mapIndex> → output JSON
//   batuta:<ns>:run:<runId>:cells                hash    <taskId>#<mapIndex> → "<state>,<tryNumber>" (the grid's view)
//   batuta:<ns>:run:<runId>:tries                hash    <taskId>#<mapIndex>#<tryNumber> → ended try JSON (ADR 019)
//   batuta:<ns>:run:<runId>:grid                 string  the cells hash packed in one text (a read cache, see below)
//   batuta:<ns>:runs                             zset    every run id, score −logicalDateMs
//   batuta:<ns>:runs:state:<state>              zset    run ids in that state
//   batuta:<ns>:runs:dag:<dagId>                 zset    one DAG's run ids
//   batuta:<ns>:runs:dag-state:<state>:<dagId>   zset    one DAG's run ids in that state
//   batuta:<ns>:stream:<name>                    stream  events: fields type, payload (JSON), atMs (JSON)
//   batuta:<ns>:lease:<name>                     hash    owner, expiresMs (the caller's clock)
//   batuta:<ns>:paused-dags                      set     ids of paused DAGs
//   batuta:<ns>:known-dags                       set     ids of DAGs a scheduler has seen (or paused/unpaused)
//   batuta:<ns>:cursors                          hash    cursor name → the event id it has reached
//   batuta:<ns>:changes                          channel pub/sub: a JSON StoreChange per run created or transition
//
// Scores are −logicalDateMs so an ascending range is newest first, and Redis orders equal scores by
// member bytes, which is the ascending run-id order listRuns promises.
//
// No two keys of one namespace can coincide, whatever the ids: the run keys end in distinct fixed
// suffixes (`:record`, `:ti`, `:out`, `:cells`, `:tries`, `:grid`), every family starts with a distinct fixed word, run states
// (the only id inside a key that is followed by more text) are identifiers without ':', and a
// namespace is an identifier without ':' too, so one namespace never reaches into another.
//
// The index keys that depend on a run's DAG or state are derived inside the Lua scripts from the
// prefix (a run's old state is only known there), in one place: lua/includes/runIndexKeys.lua. Redis Cluster therefore needs every key of a
// namespace in one hash slot: give the namespace a hash tag, e.g. `{prod}` → `batuta:{prod}:…`, as
// BullMQ users do with `{queue}` prefixes. On a single Redis (or with Sentinel) no tag is needed.
import { BatutaError } from '../../errors.js';

/** Namespaces, like DAG ids, are identifiers; braces are allowed for a Redis Cluster hash tag. */
const NAMESPACE_PATTERN = /^[A-Za-z0-9_.{}-]+$/;

/** Builds the keys of one namespace. */
export class RedisKeys {
  /** `batuta:<namespace>:`, the start of every key. */
  readonly prefix: string;
  /** The index of every run. */
  readonly allRuns: string;
  /** The set of paused DAG ids. */
  readonly pausedDags: string;
  /** The set of DAG ids seen by a scheduler or paused/unpaused explicitly (first-load pausing). */
  readonly knownDags: string;
  /** Persisted read positions: name → event id. */
  readonly cursors: string;
  /** The pub/sub channel of change notices (not a key: channels live outside the keyspace). */
  readonly changes: string;

  constructor(namespace: string) {
    if (!NAMESPACE_PATTERN.test(namespace)) {
      throw new BatutaError(
        'STORE_BAD_NAMESPACE',
        `Redis store namespace '${namespace}' is not valid: use letters, digits, '_', '.', '-' ` +
          "(and '{…}' for a Redis Cluster hash tag), without ':'",
      );
    }
    this.prefix = `batuta:${namespace}:`;
    this.allRuns = `${this.prefix}runs`;
    this.pausedDags = `${this.prefix}paused-dags`;
    this.knownDags = `${this.prefix}known-dags`;
    this.cursors = `${this.prefix}cursors`;
    this.changes = `${this.prefix}changes`;
  }

  runRecord(runId: string): string {
    return `${this.prefix}run:${runId}:record`;
  }

  taskInstances(runId: string): string {
    return `${this.prefix}run:${runId}:ti`;
  }

  /** The run's cells: every instance's state and try, written with the instances (applyTransition-7.lua). */
  taskCells(runId: string): string {
    return `${this.prefix}run:${runId}:cells`;
  }

  /** The run's try history: each ended try of each instance, written by the transition that ends it. */
  taskTries(runId: string): string {
    return `${this.prefix}run:${runId}:tries`;
  }

  /**
   * The run's cells packed in one text, built by a grid read (getRunCells-0.lua) and deleted by the next
   * instance write, so it is never older than the cells hash.
   */
  packedCells(runId: string): string {
    return `${this.prefix}run:${runId}:grid`;
  }

  taskOutputs(runId: string): string {
    return `${this.prefix}run:${runId}:out`;
  }

  stream(name: string): string {
    return `${this.prefix}stream:${name}`;
  }

  lease(name: string): string {
    return `${this.prefix}lease:${name}`;
  }
}
