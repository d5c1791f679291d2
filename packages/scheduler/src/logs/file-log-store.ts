// The LogStore on a file system: one file per attempt, `<folder>/<run id>/<task id>/<map index>/<try>.log`,
// one JSON object per line (`{"t":atMs,"s":"stdout","m":"text"}`; `{"end":true}` marks the attempt's
// last batch, `{"dropped":N}` lines the caps refused). Meant for one machine (the embedded executor,
// `dags test`, a worker whose folder is shared or shipped elsewhere): the caps are counted per process.
import { appendFile, type FileHandle, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BatutaError } from '../errors.js';
import {
  DEFAULT_LOG_CAPS,
  LOG_STREAMS,
  type LogAttempt,
  type LogCaps,
  type LogLine,
  type LogPage,
  type LogReadOptions,
  type LogStore,
  type LogStream,
  tailOf,
} from './log-store.js';

interface Counts {
  stored: number;
}

/** What a file's marks said up to `scannedTo`, the byte after the last whole record scanned. */
interface Marks {
  scannedTo: number;
  ended: boolean;
  dropped: number;
}

/** Files whose marks a store remembers (the most recently read). */
const MARKS_KEPT = 10_000;

/** Bytes read at a time from a file's end for a tail. */
const TAIL_CHUNK_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

/** Logs as files under one folder. */
export class FileLogStore implements LogStore {
  readonly folder: string;
  private readonly caps: LogCaps;
  /** Lines stored per attempt file and per run, counted from the files at first touch. */
  private readonly attemptCounts = new Map<string, Counts>();
  private readonly runCounts = new Map<string, Promise<Counts>>();
  /** One write at a time per file, so batches land in order. */
  private readonly writing = new Map<string, Promise<void>>();

  private readonly tailChunkBytes: number;
  /** The end and drop marks of files read, so a follow scans only what was appended since. */
  private readonly marks = new Map<string, Marks>();
  /** Bytes read from log files by `read` and tail reads, over the store's life (for tests and metrics). */
  bytesRead = 0;

  /** `tailChunkBytes`: bytes a tail reads at a time from the end (default 64 KiB; tests make it tiny). */
  constructor(options: { folder: string; caps?: Partial<LogCaps>; tailChunkBytes?: number }) {
    this.folder = options.folder;
    this.caps = { ...DEFAULT_LOG_CAPS, ...options.caps };
    this.tailChunkBytes = Math.max(1, options.tailChunkBytes ?? TAIL_CHUNK_BYTES);
  }

  async append(attempt: LogAttempt, lines: readonly LogLine[], options: { end?: boolean } = {}): Promise<void> {
    const file = this.fileOf(attempt);
    const previous = this.writing.get(file) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.write(attempt, file, lines, options.end ?? false));
    this.writing.set(file, next);
    try {
      await next;
    } finally {
      if (this.writing.get(file) === next) this.writing.delete(file);
    }
  }

  async read(attempt: LogAttempt, options: LogReadOptions = {}): Promise<LogPage> {
    const tail = tailOf(options);
    if (tail !== undefined) return this.readTail(attempt, tail);
    const after = options.after ?? '0';
    if (!/^\d+$/.test(after)) throw new BatutaError('LOG_BAD_CURSOR', `log cursor '${after}' is not a byte offset`);
    const limit = options.limit ?? 10_000;
    const file = this.fileOf(attempt);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { lines: [], cursor: after, ended: false, droppedLines: 0 };
      throw error;
    }
    try {
      const { size } = await handle.stat();
      // The end mark and the drop counts are facts of the whole file, wherever the page starts: scanned
      // once, then only in what was appended since (a follow polls every 250 ms; a long log is 10 MB).
      let marks = this.marks.get(file);
      if (!marks || marks.scannedTo > size) marks = { scannedTo: 0, ended: false, dropped: 0 };
      const from = Math.min(Number(after), marks.scannedTo, size);
      const bytes = await readExactly(handle, from, size - from);
      this.bytesRead += bytes.length;
      const wholeEnd = bytes.lastIndexOf(NEWLINE) + 1;
      if (from + wholeEnd > marks.scannedTo) {
        marks = scanMarks(bytes, marks.scannedTo - from, wholeEnd, marks);
        marks.scannedTo = from + wholeEnd;
        this.marks.delete(file);
        this.marks.set(file, marks);
        if (this.marks.size > MARKS_KEPT) this.marks.delete(this.marks.keys().next().value as string);
      }
      const text = bytes.subarray(Math.min(Number(after), size) - from).toString('utf8');
      const lines: LogLine[] = [];
      let offset = Number(after);
      let start = 0;
      // Only whole lines: a batch being written may be half there.
      while (lines.length < limit) {
        const newline = text.indexOf('\n', start);
        if (newline < 0) break;
        const record = text.slice(start, newline);
        offset += Buffer.byteLength(record) + 1;
        start = newline + 1;
        const parsed = parseRecord(record);
        if (parsed !== undefined && parsed !== 'end' && typeof parsed !== 'number') lines.push(parsed);
      }
      return { lines, cursor: String(offset), ended: marks.ended, droppedLines: marks.dropped };
    } finally {
      await handle.close();
    }
  }

  /**
   * The last `tail` lines, read backwards from the end a chunk at a time, never the whole file (a log may
   * hold 100,000 lines). Records are cut at newline bytes, which never occur inside a multi-byte UTF-8
   * character, and decoded whole, so a character split across two chunks is joined before decoding.
   * A half-written last record is left for the next read: the cursor is the byte after the last newline.
   * The end mark and the drop marks follow the last stored line (once a cap refuses a line it refuses
   * every later one; the end comes with the last batch), so reading back to the first line of the tail —
   * to one line for a tail of 0 — sees all of them.
   */
  private async readTail(attempt: LogAttempt, tail: number): Promise<LogPage> {
    let handle: FileHandle;
    try {
      handle = await open(this.fileOf(attempt), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { lines: [], cursor: '0', ended: false, droppedLines: 0 };
      throw error;
    }
    try {
      // Lines written while we read lie past `size` and are for the follow.
      const { size } = await handle.stat();
      const newestFirst: LogLine[] = [];
      let ended = false;
      let droppedLines = 0;
      const enough = () => newestFirst.length >= Math.max(tail, 1);
      const take = (record: Buffer) => {
        const parsed = parseRecord(record.toString('utf8'));
        if (parsed === 'end') ended = true;
        else if (typeof parsed === 'number') droppedLines += parsed;
        else if (parsed !== undefined) newestFirst.push(parsed);
      };
      let cursor: number | undefined;
      // The bytes from `unread` on that belong to a record whose start is not read yet (no newline).
      let pending: Buffer = Buffer.alloc(0);
      let unread = size;
      while (unread > 0 && !enough()) {
        const start = Math.max(0, unread - this.tailChunkBytes);
        const chunk = await readExactly(handle, start, unread - start);
        this.bytesRead += chunk.length;
        unread = start;
        const buffer = pending.length > 0 ? Buffer.concat([chunk, pending]) : chunk;
        // `right` is the index of a record's closing newline, or the end of the buffer.
        let right = buffer.length;
        if (cursor === undefined) {
          const last = buffer.lastIndexOf(NEWLINE);
          if (last < 0) {
            pending = buffer;
            continue;
          }
          cursor = start + last + 1;
          right = last;
        }
        while (right > 0 && !enough()) {
          const newline = buffer.lastIndexOf(NEWLINE, right - 1);
          if (newline < 0) break;
          take(buffer.subarray(newline + 1, right));
          right = newline;
        }
        pending = buffer.subarray(0, right);
      }
      // The file's first record: nothing before it to find.
      if (unread === 0 && cursor !== undefined && pending.length > 0 && !enough()) take(pending);
      return {
        lines: newestFirst.slice(0, tail).reverse(),
        cursor: String(cursor ?? 0),
        ended,
        droppedLines,
      };
    } finally {
      await handle.close();
    }
  }

  async tries(runId: string, taskId: string, mapIndex: number): Promise<number[]> {
    const names = await readdir(join(this.runFolder(runId), taskId, String(mapIndex))).catch(() => [] as string[]);
    return names
      .map((name) => /^(\d+)\.log$/.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async removeRun(runId: string): Promise<number> {
    const folder = this.runFolder(runId);
    const files = await countFiles(folder);
    await rm(folder, { recursive: true, force: true });
    this.runCounts.delete(runId);
    for (const key of this.attemptCounts.keys()) if (key.startsWith(`${folder}/`)) this.attemptCounts.delete(key);
    for (const key of this.marks.keys()) if (key.startsWith(`${folder}/`)) this.marks.delete(key);
    return files;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writing.values()]);
  }

  /** The file of one attempt. */
  fileOf(attempt: LogAttempt): string {
    return join(this.runFolder(attempt.runId), attempt.taskId, String(attempt.mapIndex), `${attempt.tryNumber}.log`);
  }

  private runFolder(runId: string): string {
    // Run ids may hold ':' and other characters some file systems refuse; encoded, they are one safe name.
    return join(this.folder, encodeURIComponent(runId));
  }

  private async write(attempt: LogAttempt, file: string, lines: readonly LogLine[], end: boolean): Promise<void> {
    const run = await this.runCount(attempt.runId);
    let counts = this.attemptCounts.get(file);
    if (!counts) {
      counts = { stored: await countLines(file) };
      this.attemptCounts.set(file, counts);
    }
    const room = Math.max(
      0,
      Math.min(this.caps.maxLinesPerAttempt - counts.stored, this.caps.maxLinesPerRun - run.stored),
    );
    const accepted = Math.min(lines.length, room);
    let text = '';
    for (let i = 0; i < accepted; i++) {
      const line = lines[i]!;
      text += `{"t":${line.atMs},"s":"${line.stream}","m":${JSON.stringify(line.text)}}\n`;
    }
    if (accepted < lines.length) text += `{"dropped":${lines.length - accepted}}\n`;
    if (end) text += '{"end":true}\n';
    counts.stored += accepted;
    run.stored += accepted;
    await mkdir(join(file, '..'), { recursive: true });
    await appendFile(file, text);
  }

  private runCount(runId: string): Promise<Counts> {
    let counts = this.runCounts.get(runId);
    if (!counts) {
      counts = countRunLines(this.runFolder(runId)).then((stored) => ({ stored }));
      this.runCounts.set(runId, counts);
    }
    return counts;
  }
}

/** `length` bytes of a file from `position` (a read may return fewer than asked). */
async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) return buffer.subarray(0, filled);
    filled += bytesRead;
  }
  return buffer;
}

/**
 * `marks` plus the end and drop marks among the whole records of `bytes[from, to)`. Only records that
 * open with `{"e` or `{"d` are parsed (a line's record opens with `{"t"`).
 */
function scanMarks(bytes: Buffer, from: number, to: number, marks: Marks): Marks {
  let { ended, dropped } = marks;
  for (let at = from; at < to; ) {
    const newline = bytes.indexOf(NEWLINE, at);
    if (bytes[at] === 0x7b && bytes[at + 1] === 0x22 && (bytes[at + 2] === 0x65 || bytes[at + 2] === 0x64)) {
      const parsed = parseRecord(bytes.toString('utf8', at, newline));
      if (parsed === 'end') ended = true;
      else if (typeof parsed === 'number') dropped += parsed;
    }
    at = newline + 1;
  }
  return { scannedTo: marks.scannedTo, ended, dropped };
}

function parseRecord(record: string): LogLine | 'end' | number | undefined {
  let value: unknown;
  try {
    value = JSON.parse(record);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const object = value as Record<string, unknown>;
  if (object.end === true) return 'end';
  if (typeof object.dropped === 'number') return object.dropped;
  if (typeof object.t !== 'number' || typeof object.m !== 'string') return undefined;
  const stream = LOG_STREAMS.includes(object.s as LogStream) ? (object.s as LogStream) : 'log';
  return { atMs: object.t, stream, text: object.m };
}

/** Stored lines of one attempt file (its records that are lines, not marks). */
async function countLines(file: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  let count = 0;
  for (const record of text.split('\n')) if (record.startsWith('{"t":')) count++;
  return count;
}

async function countRunLines(folder: string): Promise<number> {
  let total = 0;
  for (const file of await listFiles(folder)) total += await countLines(file);
  return total;
}

async function countFiles(folder: string): Promise<number> {
  return (await listFiles(folder)).length;
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
