// The LogStore on a file system: one file per attempt, `<folder>/<run id>/<task id>/<map index>/<try>.log`,
// one JSON object per line (`{"t":atMs,"s":"stdout","m":"text"}`; `{"end":true}` marks the attempt's
// last batch, `{"dropped":N}` lines the caps refused). Meant for one machine (the embedded executor,
// `dags test`, a worker whose folder is shared or shipped elsewhere): the caps are counted per process.
import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BatutaError } from '../errors.js';
import {
  DEFAULT_LOG_CAPS,
  LOG_STREAMS,
  type LogAttempt,
  type LogCaps,
  type LogLine,
  type LogPage,
  type LogStore,
  type LogStream,
} from './log-store.js';

interface Counts {
  stored: number;
}

/** Logs as files under one folder. */
export class FileLogStore implements LogStore {
  readonly folder: string;
  private readonly caps: LogCaps;
  /** Lines stored per attempt file and per run, counted from the files at first touch. */
  private readonly attemptCounts = new Map<string, Counts>();
  private readonly runCounts = new Map<string, Promise<Counts>>();
  /** One write at a time per file, so batches land in order. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(options: { folder: string; caps?: Partial<LogCaps> }) {
    this.folder = options.folder;
    this.caps = { ...DEFAULT_LOG_CAPS, ...options.caps };
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

  async read(attempt: LogAttempt, options: { after?: string; limit?: number } = {}): Promise<LogPage> {
    const after = options.after ?? '0';
    if (!/^\d+$/.test(after)) throw new BatutaError('LOG_BAD_CURSOR', `log cursor '${after}' is not a byte offset`);
    const limit = options.limit ?? 10_000;
    let whole: Buffer;
    try {
      whole = await readFile(this.fileOf(attempt));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { lines: [], cursor: after, ended: false, droppedLines: 0 };
      throw error;
    }
    // The end mark and the drop counts are facts of the whole file, wherever the page starts.
    const all = whole.toString('utf8');
    const ended = all.includes('\n{"end":true}\n') || all.startsWith('{"end":true}\n');
    let droppedLines = 0;
    for (const match of all.matchAll(/^\{"dropped":(\d+)\}$/gm)) droppedLines += Number(match[1]);
    const text = whole.subarray(Math.min(Number(after), whole.length)).toString('utf8');
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
    return { lines, cursor: String(offset), ended, droppedLines };
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
