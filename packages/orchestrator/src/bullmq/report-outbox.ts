// What a worker tells the executor, sent in batches: reports queued while the previous batch is on its
// way go out together in one Lua call, which appends them as one results-stream entry (a JSON array).
// A `finished` report says whether the job's lock was still this worker's: only then may the worker move
// the job on. A report whose lock was lost (Redis was away longer than the lock lasts) is appended all the
// same, marked late: the attempt did finish, and the executor, not the worker, decides whether it still
// counts (it does while the attempt has not been settled otherwise). A batch Redis refused is kept and
// sent again until Redis answers: a finished attempt's report is never dropped while the worker lives.
// Batching keeps a busy worker at about one extra Redis call per turn instead of two per attempt.
import type { Redis } from 'ioredis';
import { OrchestratorError } from '../errors.js';
import { jobLockKey } from './bullmq-internals.js';
import { LuaScript } from './lua-script.js';
import { encodeReport, REPORT_FIELD, REPORT_HASH_FIELD, type WorkerReport } from './wire.js';

// KEYS[1] the results stream, then (job lock, job hash) pairs. ARGV: triples (key index, token, report
// JSON); index 0 means "no lock to check", n means lock KEYS[n + 1] and job KEYS[n + 2]. A checked report
// is also kept in its job's hash while the job exists (the executor's safety net reads it there). Every
// report is appended; returns per report 1 (lock ours, or none checked) or 2 (lock lost: appended late).
const appendReports = new LuaScript(
  'appendReports',
  `local accepted, out = {}, {}
for i = 1, #ARGV, 3 do
  local key = tonumber(ARGV[i])
  out[#out + 1] = ARGV[i + 2]
  if key == 0 then
    accepted[#accepted + 1] = 1
  elseif redis.call('GET', KEYS[key + 1]) == ARGV[i + 1] then
    redis.call('HSET', KEYS[key + 2], '${REPORT_HASH_FIELD}', ARGV[i + 2])
    accepted[#accepted + 1] = 1
  else
    if redis.call('EXISTS', KEYS[key + 2]) == 1 then
      redis.call('HSET', KEYS[key + 2], '${REPORT_HASH_FIELD}', ARGV[i + 2])
    end
    accepted[#accepted + 1] = 2
  end
end
if #out > 0 then redis.call('XADD', KEYS[1], '*', '${REPORT_FIELD}', '[' .. table.concat(out, ',') .. ']') end
return accepted`,
);

interface Pending {
  report: WorkerReport;
  /** For a checked report: the job's hash, and the token that must hold its lock. */
  lock: { jobKey: string; token: string } | undefined;
  /** An unchecked report that no longer matters (its attempt already finished) is not sent. */
  stale: (() => boolean) | undefined;
  settle: ((appended: LockedAppend) => void) | undefined;
  fail: ((error: unknown) => void) | undefined;
}

/** How a locked report went out: `locked` while the lock was ours, `late` after it was lost. */
export type LockedAppend = 'locked' | 'late';

/** The first wait before a refused batch is sent again, and the longest (it doubles in between). */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2_000;

/** The batched report sender of one worker connection. */
export class ReportOutbox {
  private pending: Pending[] = [];
  private scheduled = false;
  private sending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues a report that needs no lock (started, log, progress); skipped if `stale()` holds when sent. */
  post(report: WorkerReport, stale?: () => boolean): void {
    this.pending.push({ report, lock: undefined, stale, settle: undefined, fail: undefined });
    this.schedule();
  }

  /**
   * Queues a report that checks the lock of the job at `jobKey` against `token` (kept in that job's hash
   * too); resolves once appended, saying whether the lock was still ours. Retried while Redis is away;
   * rejects only when the outbox stops first.
   */
  postLocked(report: WorkerReport, jobKey: string, token: string): Promise<LockedAppend> {
    return new Promise((settle, fail) => {
      this.pending.push({ report, lock: { jobKey, token }, stale: undefined, settle, fail });
      this.schedule();
    });
  }

  /**
   * Sends at once when nothing is on the way (low latency when idle); while a batch is on the way, reports
   * gather and go together when it returns (batches under load).
   */
  /** Reports still unsent, waiting for Redis (or for the batch on its way). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Stops sending: what is still unsent is given up (its locked posts reject). For a closing worker. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const error = new OrchestratorError('WORKER_CLOSING', 'the worker closed before Redis took this report');
    for (const entry of this.pending.splice(0)) entry.fail?.(error);
  }

  private schedule(): void {
    if (this.scheduled || this.sending || this.retryTimer || this.stopped) return;
    this.scheduled = true;
    // A microtask, so reports posted in the same synchronous run share the call.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.filter((entry) => !entry.stale?.());
    this.pending = [];
    if (batch.length === 0) return;
    this.sending = true;
    try {
      await this.send(batch);
    } finally {
      this.sending = false;
      if (this.pending.length > 0) this.schedule();
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const keys = [this.streamKey];
    const args: Array<string | number> = [];
    for (const entry of batch) {
      if (entry.lock) {
        keys.push(jobLockKey(entry.lock.jobKey), entry.lock.jobKey);
        args.push(keys.length - 2, entry.lock.token, encodeReport(entry.report));
      } else {
        args.push(0, '', encodeReport(entry.report));
      }
    }
    let accepted: unknown;
    try {
      accepted = await appendReports.run(this.redis, keys, args);
    } catch (error) {
      this.onError(error);
      this.retryLater(batch);
      return;
    }
    this.retryMs = RETRY_FIRST_MS;
    const flags = Array.isArray(accepted) ? accepted : [];
    for (const [index, entry] of batch.entries()) entry.settle?.(flags[index] === 2 ? 'late' : 'locked');
  }

  /** Puts a refused batch back in front (its order kept) and sends it again after a growing wait. */
  private retryLater(batch: Pending[]): void {
    if (this.stopped) {
      const error = new OrchestratorError('WORKER_CLOSING', 'the worker closed before Redis took this report');
      for (const entry of batch) entry.fail?.(error);
      return;
    }
    this.pending = [...batch, ...this.pending];
    const waitMs = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, waitMs);
  }
}
