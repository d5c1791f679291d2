// Where predictions and their bookkeeping live in Redis.
//
// Versioned layout (the default), for namespace NS and model M:
//   batuta:NS:pred:M:v:VERSION:KEY   one string per prediction (the label), written with MSET
//   batuta:NS:pred:M:current         the version consumers read (switched atomically, by script)
//   batuta:NS:pred:M:versions        sorted set of complete versions, scored by commit order
//   batuta:NS:pred:M:seq             commit counter
//   batuta:NS:pred:M:meta:VERSION    hash: status (writing|complete), rows, keyScheme, labels, times
//   batuta:NS:pred:M:pending         sorted set of versions being written, scored by start time
//   batuta:NS:pred:M:misses          stream of lookups that missed (for the next batch run)
//   batuta:NS:pred:M:layout          hash: which layout the model uses (and, for plain, its scheme,
//                                    feature count and last batch's rows)
//   batuta:NS:pred:M:bad             hash: version → why it is known bad (rollback never lands there)
//   batuta:NS:pred:M:activations     hash: version → when it last became current (commit, activate, rollback)
//   batuta:NS:pred:M:rollout         hash: the model's rollout (`state` JSON, `rev` for compare-and-set)
//   batuta:NS:pred:M:rollout:figures hash: the rollout's counters (`<arm>:<figure>`), reset at each start
//   batuta:NS:pred:M:rollout:log     stream (capped): decisions, and one `assigned` entry per counted batch
//                                    (exact counts per arm, a sample of keys), for audits and reports
// Plain layout: `PREFIX + KEY` → label, exactly what the original example wrote (PREFIX is '' by
// default, so the keys are bare SHA-256 hex strings), plus the `layout` and `misses` keys above.
//
// Model and version names are restricted to letters, digits, '_', '.' and '-', so no name can
// contain ':' (no collisions between the segments) or a SCAN glob character.
import { MlTasksError } from '../errors.js';

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** The two layouts: bare keys as the original, or versioned sets with an atomic switch. */
export type PredictionLayout = 'plain' | 'versioned';

/** The default namespace (`batuta:<namespace>:…`). */
export const DEFAULT_NAMESPACE = 'default';

/** Throws INVALID_ARGUMENT unless `value` is a valid model, version or namespace name. */
export function checkName(kind: 'model' | 'version' | 'namespace', value: string): string {
  if (!NAME.test(value)) {
    throw new MlTasksError(
      'INVALID_ARGUMENT',
      `${kind} '${value}' is not a valid name: use 1-128 letters, digits, '_', '.' or '-'`,
    );
  }
  return value;
}

/** The Redis key names of one model's predictions in one namespace. */
export class PredictionKeys {
  readonly namespace: string;
  readonly model: string;
  private readonly base: string;

  constructor(namespace: string, model: string) {
    this.namespace = checkName('namespace', namespace);
    this.model = checkName('model', model);
    this.base = `batuta:${namespace}:pred:${model}`;
  }

  /** Prefix of every prediction key of `version`. */
  versionPrefix(version: string): string {
    return `${this.base}:v:${version}:`;
  }

  prediction(version: string, key: string): string {
    return `${this.base}:v:${version}:${key}`;
  }

  get current(): string {
    return `${this.base}:current`;
  }

  get versions(): string {
    return `${this.base}:versions`;
  }

  get seq(): string {
    return `${this.base}:seq`;
  }

  get pending(): string {
    return `${this.base}:pending`;
  }

  get misses(): string {
    return `${this.base}:misses`;
  }

  get layout(): string {
    return `${this.base}:layout`;
  }

  get bad(): string {
    return `${this.base}:bad`;
  }

  get activations(): string {
    return `${this.base}:activations`;
  }

  meta(version: string): string {
    return `${this.base}:meta:${version}`;
  }

  get rollout(): string {
    return `${this.base}:rollout`;
  }

  get rolloutFigures(): string {
    return `${this.base}:rollout:figures`;
  }

  get rolloutLog(): string {
    return `${this.base}:rollout:log`;
  }
}
