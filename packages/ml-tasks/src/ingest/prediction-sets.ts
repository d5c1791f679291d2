// The versions of one model's predictions in Redis: which is current, which are complete, and the
// operations on them — rollback, activate (deploying and rolling back are the same operation),
// delete, and pruning what crashed or expired runs left behind. A version can be marked bad (the
// one a rollback left, or one forced in empty): rollback skips it and activate asks for force.
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';
import { type KeyScheme, keySchemeSchema } from '../keys/key-schemes.js';
import type { IngestGateRecord } from './ingest-safety-gate.js';
import { checkName, DEFAULT_NAMESPACE, PredictionKeys } from './redis-layout.js';
import { ACTIVATE_VERSION_4, ROLLBACK_VERSION_4, runScript } from './scripts.js';

/** What the ingest recorded about one version. */
export interface VersionMeta {
  version: string;
  status: 'writing' | 'complete';
  rows: number;
  keyScheme: KeyScheme;
  /** Class names, index = class, when the model is a classifier. */
  classNames?: string[];
  featureCount?: number;
  startedAtMs: number;
  completedAtMs?: number;
  /** What the ingest safety gate decided when the version was committed. */
  gate?: IngestGateRecord;
}

/**
 * A version as `versions()` lists it: its metadata, whether it is served, why it is known bad, and when it
 * last became current (its commit, an activate or a rollback; absent for versions from before it was kept).
 */
export type VersionInfo = VersionMeta & { current: boolean; bad?: string; activatedAtMs?: number };

/** How a model's predictions are laid out (read by consumers before their first lookup). */
export type LayoutInfo =
  | { layout: 'versioned' }
  | {
      layout: 'plain';
      keyScheme: KeyScheme;
      prefix: string;
      classNames?: string[];
      /** Features per row the ingest keyed, so a lookup with another count fails clearly. */
      featureCount?: number;
      /** Rows of the last committed batch. */
      rows?: number;
    };

/** The fields of a version's metadata hash. */
export function versionMetaFields(meta: VersionMeta): Record<string, string> {
  return {
    status: meta.status,
    rows: String(meta.rows),
    keyScheme: JSON.stringify(meta.keyScheme),
    startedAt: String(meta.startedAtMs),
    ...(meta.classNames ? { classNames: JSON.stringify(meta.classNames) } : {}),
    ...(meta.featureCount === undefined ? {} : { featureCount: String(meta.featureCount) }),
    ...(meta.completedAtMs === undefined ? {} : { completedAt: String(meta.completedAtMs) }),
    ...(meta.gate ? { gate: JSON.stringify(meta.gate) } : {}),
  };
}

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new MlTasksError('INVALID_ARGUMENT', `${what} in Redis is not valid JSON: ${text.slice(0, 80)}`);
  }
}

/** Parses a version's metadata hash; undefined when it does not exist. */
export function parseVersionMeta(version: string, fields: Record<string, string>): VersionMeta | undefined {
  if (!fields.status) return undefined;
  const keyScheme = keySchemeSchema.parse(parseJson(fields.keyScheme, 'keyScheme') ?? { scheme: 'python-text' });
  const classNames = parseJson(fields.classNames, 'classNames') as string[] | undefined;
  const gate = parseJson(fields.gate, 'gate') as IngestGateRecord | undefined;
  return {
    version,
    status: fields.status === 'complete' ? 'complete' : 'writing',
    rows: Number(fields.rows ?? 0),
    keyScheme,
    ...(classNames ? { classNames } : {}),
    ...(fields.featureCount ? { featureCount: Number(fields.featureCount) } : {}),
    startedAtMs: Number(fields.startedAt ?? 0),
    ...(fields.completedAt ? { completedAtMs: Number(fields.completedAt) } : {}),
    ...(gate ? { gate } : {}),
  };
}

/** Parses a model's layout hash; undefined when nothing was ingested for it. */
export function parseLayoutInfo(fields: Record<string, string>): LayoutInfo | undefined {
  if (fields.layout === 'versioned') return { layout: 'versioned' };
  if (fields.layout !== 'plain') return undefined;
  const classNames = parseJson(fields.classNames, 'classNames') as string[] | undefined;
  return {
    layout: 'plain',
    keyScheme: keySchemeSchema.parse(parseJson(fields.keyScheme, 'keyScheme') ?? { scheme: 'python-text' }),
    prefix: fields.prefix ?? '',
    ...(classNames ? { classNames } : {}),
    ...(fields.featureCount ? { featureCount: Number(fields.featureCount) } : {}),
    ...(fields.rows ? { rows: Number(fields.rows) } : {}),
  };
}

/** Deletes every key matching `pattern` with SCAN + UNLINK; returns how many were deleted. */
export async function deleteMatching(redis: Redis, pattern: string, scanCount = 10_000): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
    cursor = next;
    for (let at = 0; at < keys.length; at += 1000) {
      deleted += await redis.unlink(...keys.slice(at, at + 1000));
    }
  } while (cursor !== '0');
  return deleted;
}

/** One model's prediction sets in one namespace. */
export class PredictionSets {
  readonly keys: PredictionKeys;
  private readonly redis: Redis;

  constructor(redis: Redis, options: { model: string; namespace?: string }) {
    this.redis = redis;
    this.keys = new PredictionKeys(options.namespace ?? DEFAULT_NAMESPACE, options.model);
  }

  /** The layout recorded at ingest, or undefined when nothing was ingested. */
  async layout(): Promise<LayoutInfo | undefined> {
    return parseLayoutInfo(await this.redis.hgetall(this.keys.layout));
  }

  /** The version consumers read now, or undefined. */
  async current(): Promise<string | undefined> {
    return (await this.redis.get(this.keys.current)) ?? undefined;
  }

  async meta(version: string): Promise<VersionMeta | undefined> {
    checkName('version', version);
    return parseVersionMeta(version, await this.redis.hgetall(this.keys.meta(version)));
  }

  /** Complete versions, oldest first (commit order), then versions still being written. */
  async versions(): Promise<VersionInfo[]> {
    const [complete, pending, current, bad, activations] = await Promise.all([
      this.redis.zrange(this.keys.versions, 0, '-1'),
      this.redis.zrange(this.keys.pending, 0, '-1'),
      this.current(),
      this.redis.hgetall(this.keys.bad),
      this.redis.hgetall(this.keys.activations),
    ]);
    const result: VersionInfo[] = [];
    for (const version of [...complete, ...pending.filter((name) => !complete.includes(name))]) {
      const meta = await this.meta(version);
      const reason = bad[version];
      const activated = activations[version];
      if (meta) {
        result.push({
          ...meta,
          current: version === current,
          ...(reason ? { bad: reason } : {}),
          ...(activated ? { activatedAtMs: Number(activated) } : {}),
        });
      }
    }
    return result;
  }

  /**
   * Points `current` back at the newest earlier complete version not marked bad, and marks the
   * version it leaves bad. Returns the versions it skipped because they were marked bad.
   */
  async rollback(options: { nowMs?: number } = {}): Promise<{ from: string; to: string; skipped: string[] }> {
    const nowMs = options.nowMs ?? Date.now();
    const reason = `rolled back at ${new Date(nowMs).toISOString()}`;
    const [from, to, ...skipped] = (await runScript(
      this.redis,
      ROLLBACK_VERSION_4,
      [this.keys.current, this.keys.versions, this.keys.bad, this.keys.activations],
      [reason, nowMs],
    )) as [string, string, ...string[]];
    return { from, to, skipped };
  }

  /**
   * Points `current` at a complete version; one marked bad needs `force` (which clears the mark). With
   * `onlyFrom`, switches only when `current` is one of those versions (and otherwise does nothing).
   */
  async activate(
    version: string,
    options: { force?: boolean; nowMs?: number; onlyFrom?: readonly string[] } = {},
  ): Promise<{ previous: string | undefined; switched: boolean }> {
    checkName('version', version);
    const [previous, switched] = (await runScript(
      this.redis,
      ACTIVATE_VERSION_4,
      [this.keys.current, this.keys.versions, this.keys.bad, this.keys.activations],
      [version, options.force ? '1' : '0', options.nowMs ?? Date.now(), ...(options.onlyFrom ?? [])],
    )) as [string, number];
    return { previous: previous === '' ? undefined : previous, switched: switched === 1 };
  }

  /** Records that `version` is known bad: rollback will not land on it, activate will ask for force. */
  async markBad(version: string, reason: string): Promise<void> {
    checkName('version', version);
    await this.redis.hset(this.keys.bad, version, reason);
  }

  /** Deletes a version's predictions and metadata (never the current one); returns the keys deleted. */
  async deleteVersion(version: string): Promise<number> {
    checkName('version', version);
    if ((await this.current()) === version) {
      throw new MlTasksError(
        'VERSION_CONFLICT',
        `version ${version} of ${this.keys.model} is current; activate another first`,
      );
    }
    await this.redis.zrem(this.keys.versions, version);
    await this.redis.zrem(this.keys.pending, version);
    await this.redis.hdel(this.keys.bad, version);
    await this.redis.hdel(this.keys.activations, version);
    const deleted = await deleteMatching(this.redis, `${this.keys.versionPrefix(version)}*`);
    await this.redis.unlink(this.keys.meta(version));
    return deleted;
  }

  /**
   * Deletes what no consumer can reach: versions whose writing started more than
   * `abandonAfterMs` ago and never completed (a crashed run that was not re-run), and versions
   * whose metadata survived their eviction. Returns the versions deleted.
   */
  async prune(options: { abandonAfterMs?: number; nowMs?: number } = {}): Promise<string[]> {
    const nowMs = options.nowMs ?? Date.now();
    const abandonAfterMs = options.abandonAfterMs ?? 24 * 3_600_000;
    const [complete, pending, current] = await Promise.all([
      this.redis.zrange(this.keys.versions, 0, '-1'),
      this.redis.zrange(this.keys.pending, 0, '-1', 'WITHSCORES') as Promise<unknown> as Promise<string[]>,
      this.current(),
    ]);
    const started = new Map<string, number>();
    for (let at = 0; at < pending.length; at += 2) started.set(pending[at] as string, Number(pending[at + 1]));
    const metaPrefix = this.keys.meta('');
    const versions = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${metaPrefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) versions.add(key.slice(metaPrefix.length));
    } while (cursor !== '0');
    const deleted: string[] = [];
    for (const version of versions) {
      if (version === current || complete.includes(version)) continue;
      const startedAt = started.get(version);
      if (startedAt !== undefined && nowMs - startedAt < abandonAfterMs) continue;
      await this.deleteVersion(version);
      deleted.push(version);
    }
    return deleted;
  }
}

/** Points a model's `current` back at its newest earlier version not marked bad (`batuta predictions rollback MODEL`). */
export async function rollback(
  redis: Redis,
  model: string,
  options: { namespace?: string } = {},
): Promise<{ from: string; to: string; skipped: string[] }> {
  return new PredictionSets(redis, { model, ...options }).rollback();
}
