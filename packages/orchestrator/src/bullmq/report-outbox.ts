// What a worker tells the executor, sent in batches: reports queued while the previous batch is on its
// way go out together in one Lua call, which appends them as one results-stream entry (a JSON array). A `finished`
// report is appended only while the job's lock is still this worker's, so a worker that lost a job (its
// lock expired and the job was reported lost) does not also report it. Batching keeps a busy worker at
// about one extra Redis call per turn instead of two per attempt.
import type { Redis } from 'ioredis';
import { jobLockKey } from './bullmq-internals.js';
import { LuaScript } from './lua-script.js';
import { encodeReport, REPORT_FIELD, REPORT_HASH_FIELD, type WorkerReport } from './wire.js';

// KEYS[1] the results stream, then (job lock, job hash) pairs. ARGV: triples (key index, token, report
// JSON); index 0 means "no lock to check", n means lock KEYS[n + 1] and job KEYS[n + 2]. A checked report
// is also kept in its job's hash (the executor's safety net reads it there). Returns 1/0 per report.
const appendReports = new LuaScript(
  'appendReports',
  `local accepted, out = {}, {}
for i = 1, #ARGV, 3 do
  local key = tonumber(ARGV[i])
  if key == 0 then
    out[#out + 1] = ARGV[i + 2]
    accepted[#accepted + 1] = 1
  elseif redis.call('GET', KEYS[key + 1]) == ARGV[i + 1] then
    redis.call('HSET', KEYS[key + 2], '${REPORT_HASH_FIELD}', ARGV[i + 2])
    out[#out + 1] = ARGV[i + 2]
    accepted[#accepted + 1] = 1
  else
    accepted[#accepted + 1] = 0
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
  settle: ((appended: boolean) => void) | undefined;
  fail: ((error: unknown) => void) | undefined;
}

/** The batched report sender of one worker connection. */
export class ReportOutbox {
  private pending: Pending[] = [];
  private scheduled = false;
  private sending = false;

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
   * Queues a report appended only while the lock of the job at `jobKey` holds `token`, and kept in that
   * job's hash too; resolves true when appended, rejects if Redis failed.
   */
  postLocked(report: WorkerReport, jobKey: string, token: string): Promise<boolean> {
    return new Promise((settle, fail) => {
      this.pending.push({ report, lock: { jobKey, token }, stale: undefined, settle, fail });
      this.schedule();
    });
  }

  /**
   * Sends at once when nothing is on the way (low latency when idle); while a batch is on the way, reports
   * gather and go together when it returns (batches under load).
   */
  private schedule(): void {
    if (this.scheduled || this.sending) return;
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
      for (const entry of batch) entry.fail?.(error);
      return;
    }
    const flags = Array.isArray(accepted) ? accepted : [];
    for (const [index, entry] of batch.entries()) entry.settle?.(flags[index] === 1);
  }
}
