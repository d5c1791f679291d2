// Ships one attempt's lines to a LogStore while the attempt runs: lines are stamped and buffered, and
// sent in batches at least every `flushEveryMs` (so a killed worker loses at most that much) or as soon
// as a batch is full. `end()` sends what is left with the end mark; the caller awaits it before it
// reports the attempt. A store that fails never fails the task: lines wait for the next flush, and past
// `maxBufferedLines` the oldest are given up and counted in a line of their own.
import type { Clock } from '../clock.js';
import {
  clipLogText,
  type LogAttempt,
  type LogLine,
  type LogStore,
  type LogStream,
  MAX_LOG_LINE_CHARS,
} from './log-store.js';

/** How a LogShipper batches. */
export interface LogShipperOptions {
  store: LogStore;
  attempt: LogAttempt;
  /** Stamps each line; only `now` is used. */
  clock: Pick<Clock, 'now'>;
  /** Longest a line waits in the buffer; default 250 ms. */
  flushEveryMs?: number;
  /** A buffer this full is sent at once; default 5,000 lines. */
  batchLines?: number;
  /** Lines kept while the store fails; older ones are given up. Default 100,000. */
  maxBufferedLines?: number;
  /** A store error (the lines stay buffered and are sent again). */
  onError?: (error: unknown) => void;
}

/** Buffers and sends one attempt's lines, in order. */
export class LogShipper {
  private buffer: LogLine[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private lost = 0;
  /** A send is queued that has not yet taken the buffer: more lines join it instead of queueing another. */
  private sendQueued = false;
  private readonly flushEveryMs: number;
  private readonly batchLines: number;
  private readonly maxBufferedLines: number;

  constructor(private readonly options: LogShipperOptions) {
    this.flushEveryMs = options.flushEveryMs ?? 250;
    this.batchLines = options.batchLines ?? 5_000;
    this.maxBufferedLines = options.maxBufferedLines ?? 100_000;
  }

  /** Adds one line (without its newline); ignored after `end()`. */
  write(text: string, stream: LogStream = 'log'): void {
    if (this.ended) return;
    const atMs = this.options.clock.now();
    if (text.includes('\n')) {
      // A line is a line: a message with newlines becomes several (stores join lines with newlines).
      for (const part of text.split('\n')) this.buffer.push({ atMs, stream, text: clipLogText(part) });
    } else {
      this.buffer.push({ atMs, stream, text: text.length > MAX_LOG_LINE_CHARS ? clipLogText(text) : text });
    }
    if (this.buffer.length > this.maxBufferedLines) {
      const over = this.buffer.length - this.maxBufferedLines;
      this.buffer.splice(0, over);
      this.lost += over;
    }
    if (this.buffer.length >= this.batchLines) {
      if (!this.sendQueued) void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushEveryMs);
      this.timer.unref?.();
    }
  }

  /** Sends what is buffered now; resolves once it was stored (or the store failed). */
  flush(): Promise<void> {
    return this.enqueue(false);
  }

  /** Sends the rest with the end mark; later writes are ignored. Never rejects. */
  end(): Promise<void> {
    if (this.ended) return this.sending;
    this.ended = true;
    return this.enqueue(true);
  }

  private enqueue(end: boolean): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sendQueued = true;
    this.sending = this.sending.then(() => this.send(end));
    return this.sending;
  }

  private async send(end: boolean): Promise<void> {
    this.sendQueued = false;
    if (this.buffer.length === 0 && !end && this.lost === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    if (this.lost > 0) {
      lines.unshift({
        atMs: lines[0]?.atMs ?? this.options.clock.now(),
        stream: 'log',
        text: `[batuta] ${this.lost} earlier lines were lost: the log store was unreachable`,
      });
      this.lost = 0;
    }
    try {
      await this.options.store.append(this.options.attempt, lines, end ? { end: true } : {});
    } catch (error) {
      // Back in front, in order; a later flush sends them.
      this.buffer = lines.concat(this.buffer);
      this.options.onError?.(error);
      if (!end && !this.timer && !this.ended) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, this.flushEveryMs);
        this.timer.unref?.();
      }
    }
  }
}
