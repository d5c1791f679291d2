// Reads the results stream for one executor. Every executor of a namespace reads every report (XREAD
// from its own position, no consumer group): several schedulers may drive runs at once, and a report must
// reach the one whose attempt it is, which only that executor knows. Reports stay in the stream for a
// retention period, so an executor that starts (a restart, or a scheduler adopting another's runs) first
// reads the recent past, and can hand reports of attempts it resubmits to their new owner.
import type { Redis } from 'ioredis';
import { decodeReports, REPORT_FIELD, type WorkerReport } from './wire.js';

const READ_BATCH = 1_000;
const BLOCK_MS = 5_000;
const TRIM_EVERY_MS = 10_000;

type StreamEntries = Array<[string, string[] | null]>;

/** One executor's reading of `batuta:<ns>:orch:results`. */
export class ReportReader {
  private cursor = '0-0';
  private closed = false;
  private reading: Promise<void> | undefined;
  private lastTrimMs = 0;

  constructor(
    /** For XRANGE and XTRIM. */
    private readonly connection: Redis,
    /** Blocks in XREAD; nothing else may use it. */
    private readonly blocking: Redis,
    private readonly streamKey: string,
    private readonly retentionMs: number,
    private readonly onReport: (report: WorkerReport, recent: boolean) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Reads the last `retentionMs` of reports (handed over with `recent: true`), then follows new ones. */
  async start(): Promise<void> {
    let start = `${Date.now() - this.retentionMs}-0`;
    this.cursor = start;
    for (;;) {
      const entries = (await this.connection.xrange(this.streamKey, start, '+', 'COUNT', READ_BATCH)) as StreamEntries;
      this.deliver(entries, true);
      if (entries.length < READ_BATCH) break;
      start = `(${this.cursor}`;
    }
    this.reading = this.follow();
  }

  /** Stops following (the blocking connection is the caller's to close, which ends a read in progress). */
  async stop(): Promise<void> {
    this.closed = true;
    await this.reading?.catch(() => {});
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      let reply: Array<[string, StreamEntries]> | null;
      try {
        reply = (await this.blocking.xread(
          'COUNT',
          READ_BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.streamKey,
          this.cursor,
        )) as Array<[string, StreamEntries]> | null;
      } catch (error) {
        if (this.closed) return;
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.deliver(reply?.[0]?.[1] ?? [], false);
      this.trim();
    }
  }

  private deliver(entries: StreamEntries, recent: boolean): void {
    for (const [id, fields] of entries) {
      this.cursor = id;
      const text = fields && fields[0] === REPORT_FIELD ? fields[1] : undefined;
      if (text === undefined) continue;
      for (const report of decodeReports(text)) this.onReport(report, recent);
    }
  }

  /** Drops reports older than the retention (any executor may; all read the same stream). */
  private trim(): void {
    const now = Date.now();
    if (now - this.lastTrimMs < TRIM_EVERY_MS) return;
    this.lastTrimMs = now;
    this.connection
      .xtrim(this.streamKey, 'MINID', '~', `${now - this.retentionMs}-0`)
      .catch((error: unknown) => this.onError(error));
  }
}
