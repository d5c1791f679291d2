// The LogStore on Redis: one stream per attempt (one entry per batch: `n` its line count, `m` the texts
// joined by newlines, `s` one stream code per line, `t` the times as deltas — a batch costs Redis one
// XADD and the client no JSON), and one hash per run with each attempt's stored and dropped line counts, its end mark and the
// run's total. A batch is one `appendLog-2.lua` call, which applies both caps atomically. Keys expire
// `ttlMs` after the last line (the deployment's run retention) and go with their run when it is pruned.
import { Redis, type RedisOptions } from 'ioredis';
import { BatutaError } from '../errors.js';
import { RedisKeys } from '../store/redis/redis-keys.js';
import { readStoreScript } from '../store/redis/redis-scripts.js';
import { redisStoreClientOptions } from '../store/redis/redis-store.js';
import { redactCredentials } from '../util/redact-credentials.js';
import {
  attemptLogId,
  DEFAULT_LOG_CAPS,
  type LogAttempt,
  type LogCaps,
  type LogLine,
  type LogPage,
  type LogReadOptions,
  type LogStore,
  type LogStream,
  tailOf,
} from './log-store.js';

/** How a RedisLogStore is set up. */
export interface RedisLogStoreOptions {
  /** A connection you own, or a URL the store connects to (and closes). */
  redis?: Redis;
  url?: string;
  redisOptions?: Omit<RedisOptions, 'keyPrefix' | 'replyMapping'>;
  /** Keys are `batuta:<namespace>:log:…`; default `default`. */
  namespace?: string;
  caps?: Partial<LogCaps>;
  /** Keys expire this long after their last line (the run retention); undefined keeps them. */
  ttlMs?: number;
}

/** Lines per stream entry (one script call): amortises the round trip, never blocks Redis for long. */
const LINES_PER_ENTRY = 10_000;

/** Entries read per XRANGE. */
const ENTRIES_PER_READ = 50;

/** Entries read per XREVRANGE of a tail at most (an entry holds at least one line). */
const MAX_ENTRIES_PER_TAIL_READ = 1_000;

const STREAM_CODES: Record<LogStream, string> = { stdout: 'o', stderr: 'e', log: 'l' };
const STREAMS_BY_CODE: Record<string, LogStream> = { o: 'stdout', e: 'stderr', l: 'log' };

const COMMAND = 'batuta_appendLog';

type AppendCommand = (...args: Array<string | number | Array<string | number>>) => Promise<number>;

/** One stream entry's lines: `m` texts joined by newlines, `s` one stream code each, `t` time deltas. */
function decodeEntry(fields: string[]): LogLine[] {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]!] = fields[i + 1]!;
  const count = Number(values.n ?? 0);
  if (count === 0) return [];
  const texts = (values.m ?? '').split('\n');
  const codes = values.s ?? '';
  const times = (values.t ?? '').split(',');
  const lines: LogLine[] = new Array(count);
  let atMs = 0;
  for (let i = 0; i < count; i++) {
    atMs = i === 0 ? Number(times[0]) : atMs + Number(times[i] ?? 0);
    lines[i] = { atMs, stream: STREAMS_BY_CODE[codes[i] ?? ''] ?? 'log', text: texts[i] ?? '' };
  }
  return lines;
}

/** Logs in Redis, readable from every process of the deployment. */
export class RedisLogStore implements LogStore {
  readonly redis: Redis;
  private readonly prefix: string;
  private readonly caps: LogCaps;
  private readonly ttlMs: number;
  private readonly ownsConnection: boolean;
  private readonly appendScript: AppendCommand;
  private closed = false;

  constructor(options: RedisLogStoreOptions) {
    // RedisKeys validates the namespace exactly as the state store does.
    this.prefix = `${new RedisKeys(options.namespace ?? 'default').prefix}log:`;
    this.caps = { ...DEFAULT_LOG_CAPS, ...options.caps };
    this.ttlMs = options.ttlMs ?? 0;
    if (options.redis) {
      this.redis = options.redis;
      this.ownsConnection = false;
    } else {
      if (!options.url) throw new BatutaError('STORE_BAD_OPTIONS', 'RedisLogStore needs `redis` or `url`');
      this.redis = new Redis(options.url, {
        ...redisStoreClientOptions,
        ...options.redisOptions,
        replyMapping: 'legacy',
      });
      this.redis.on('error', () => {
        // surfaced through the rejected calls
      });
      this.ownsConnection = true;
    }
    const commands = this.redis as unknown as Record<string, AppendCommand | undefined>;
    if (typeof commands[COMMAND] !== 'function') {
      this.redis.defineCommand(COMMAND, { lua: readStoreScript('appendLog-2.lua'), numberOfKeys: 2 });
    }
    const command = commands[COMMAND]!;
    this.appendScript = (...args) => command.apply(this.redis, args);
  }

  async append(attempt: LogAttempt, lines: readonly LogLine[], options: { end?: boolean } = {}): Promise<void> {
    const id = attemptLogId(attempt);
    const keys = [this.metaKey(attempt.runId), this.streamKey(attempt.runId, id)];
    for (let start = 0; start < lines.length || start === 0; start += LINES_PER_ENTRY) {
      const chunk = lines.slice(start, start + LINES_PER_ENTRY);
      const last = start + LINES_PER_ENTRY >= lines.length;
      // Lines hold no newline (the shipper splits on them), so newlines can join them.
      let texts = '';
      let codes = '';
      let times = '';
      let previousMs = 0;
      for (let i = 0; i < chunk.length; i++) {
        const line = chunk[i]!;
        // A newline inside a text would split it in two when read back: the port's lines have none.
        const text = line.text.includes('\n') ? line.text.replaceAll('\n', ' ') : line.text;
        texts += i === 0 ? text : `\n${text}`;
        codes += STREAM_CODES[line.stream];
        times += i === 0 ? String(line.atMs) : `,${line.atMs - previousMs}`;
        previousMs = line.atMs;
      }
      await this.call('append log lines', () =>
        this.appendScript(
          ...keys,
          id,
          this.caps.maxLinesPerAttempt,
          this.caps.maxLinesPerRun,
          this.ttlMs,
          options.end && last ? '1' : '0',
          chunk.length,
          texts,
          codes,
          times,
        ),
      );
      if (lines.length === 0) break;
    }
  }

  /**
   * Reads whole batches (stream entries) after the cursor until at least `limit` lines (or the end);
   * the cursor is the last entry's id, so a page may hold up to one batch more than `limit`.
   */
  async read(attempt: LogAttempt, options: LogReadOptions = {}): Promise<LogPage> {
    const id = attemptLogId(attempt);
    const tail = tailOf(options);
    if (tail !== undefined) return this.readTail(attempt, id, tail);
    const after = options.after ?? '0-0';
    if (!/^\d+-\d+$/.test(after)) {
      throw new BatutaError('LOG_BAD_CURSOR', `log cursor '${after}' is not one this store returned`);
    }
    const limit = options.limit ?? 10_000;
    const lines: LogLine[] = [];
    let cursor = after;
    let meta: Array<string | null> = [];
    for (;;) {
      const [entries, facts] = await this.call('read log lines', async () => {
        const pipeline = this.redis.multi();
        pipeline.xrange(this.streamKey(attempt.runId, id), `(${cursor}`, '+', 'COUNT', ENTRIES_PER_READ);
        pipeline.hmget(this.metaKey(attempt.runId), `${id}:e`, `${id}:d`);
        const replies = (await pipeline.exec()) ?? [];
        for (const [error] of replies) if (error) throw error;
        return [replies[0]?.[1] as Array<[string, string[]]>, replies[1]?.[1] as Array<string | null>];
      });
      meta = facts;
      for (const [entryId, fields] of entries) {
        lines.push(...decodeEntry(fields));
        cursor = entryId;
        if (lines.length >= limit) break;
      }
      if (lines.length >= limit || entries.length < ENTRIES_PER_READ) break;
    }
    return { lines, cursor, ended: meta[0] === '1', droppedLines: Number(meta[1] ?? 0) };
  }

  /**
   * The last `tail` lines: whole entries from the newest back (XREVRANGE) until they hold `tail` lines,
   * then the newest `tail` of them. The cursor is the newest entry's id, as a read from the start would
   * have ended there, so following from it reads only later batches.
   */
  private async readTail(attempt: LogAttempt, id: string, tail: number): Promise<LogPage> {
    const key = this.streamKey(attempt.runId, id);
    // Newest first; each entry's lines oldest first.
    const batches: LogLine[][] = [];
    let count = 0;
    let cursor = '0-0';
    let meta: Array<string | null> = [];
    let before = '+';
    for (;;) {
      // Tail 0 still reads the newest entry's id: the cursor to follow from.
      const wanted = Math.min(Math.max(tail - count, 1), MAX_ENTRIES_PER_TAIL_READ);
      const [entries, facts] = await this.call('read the end of a log', async () => {
        const pipeline = this.redis.multi();
        pipeline.xrevrange(key, before, '-', 'COUNT', wanted);
        pipeline.hmget(this.metaKey(attempt.runId), `${id}:e`, `${id}:d`);
        const replies = (await pipeline.exec()) ?? [];
        for (const [error] of replies) if (error) throw error;
        return [replies[0]?.[1] as Array<[string, string[]]>, replies[1]?.[1] as Array<string | null>];
      });
      // The end mark and drop count as of the newest entry read (the first round), as the lines are.
      if (before === '+') {
        meta = facts;
        cursor = entries[0]?.[0] ?? '0-0';
        if (tail === 0) break;
      }
      for (const [entryId, fields] of entries) {
        const lines = decodeEntry(fields);
        batches.push(lines);
        count += lines.length;
        before = `(${entryId}`;
        if (count >= tail) break;
      }
      if (count >= tail || entries.length < wanted) break;
    }
    const lines = batches.reverse().flat();
    return {
      lines: lines.slice(Math.max(0, lines.length - tail)),
      cursor,
      ended: meta[0] === '1',
      droppedLines: Number(meta[1] ?? 0),
    };
  }

  async tries(runId: string, taskId: string, mapIndex: number): Promise<number[]> {
    const prefix = `${taskId}#${mapIndex}#`;
    const fields = await this.call('list log attempts', () => this.redis.hkeys(this.metaKey(runId)));
    const found = new Set<number>();
    for (const field of fields) {
      if (!field.startsWith(prefix)) continue;
      const tryNumber = Number(field.slice(prefix.length, field.lastIndexOf(':')));
      if (Number.isInteger(tryNumber)) found.add(tryNumber);
    }
    return [...found].sort((a, b) => a - b);
  }

  async removeRun(runId: string): Promise<number> {
    const meta = this.metaKey(runId);
    const fields = await this.call('list log attempts', () => this.redis.hkeys(meta));
    const ids = new Set(fields.filter((f) => f !== 'total').map((f) => f.slice(0, f.lastIndexOf(':'))));
    await this.call('remove run logs', () =>
      this.redis.unlink(meta, ...[...ids].map((id) => this.streamKey(runId, id))),
    );
    return ids.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** The run's meta hash: `<attempt>:n` stored lines, `<attempt>:d` dropped, `<attempt>:e` ended, `total`. */
  metaKey(runId: string): string {
    return `${this.prefix}${runId}:meta`;
  }

  /** One attempt's stream (attempt ids contain '#', so never `meta`). */
  streamKey(runId: string, attemptId: string): string {
    return `${this.prefix}${runId}:${attemptId}`;
  }

  private async call<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new BatutaError('STORE_CLOSED', `the log store is closed; cannot ${what}`);
    try {
      return await call();
    } catch (error) {
      if (error instanceof BatutaError) throw error;
      const message = redactCredentials(error instanceof Error ? error.message : String(error));
      const where = `${this.redis.options.host ?? '?'}:${this.redis.options.port ?? '?'}`;
      if (error instanceof Error && error.name === 'ReplyError') {
        throw new BatutaError('STORE_REDIS_ERROR', `Redis at ${where} refused to ${what}: ${message}`, {
          cause: error,
        });
      }
      throw new BatutaError('STORE_UNAVAILABLE', `could not ${what} at Redis ${where}: ${message}`, { cause: error });
    }
  }
}
