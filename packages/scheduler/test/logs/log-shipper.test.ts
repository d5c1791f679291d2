// The shipper batches an attempt's lines, sends them in order, marks the end, and never fails the task
// when the store does; the line splitter and console capture that feed it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { withConsoleCaptured } from '../../src/logs/console-capture.js';
import { LineSplitter } from '../../src/logs/line-splitter.js';
import { LogShipper } from '../../src/logs/log-shipper.js';
import type { LogAttempt, LogLine, LogStore } from '../../src/logs/log-store.js';
import { MAX_LOG_LINE_CHARS } from '../../src/logs/log-store.js';
import { MemoryLogStore } from '../../src/logs/memory-log-store.js';

const attempt: LogAttempt = { runId: 'r', taskId: 't', mapIndex: -1, tryNumber: 1 };

afterEach(() => {
  vi.useRealTimers();
});

describe('LogShipper', () => {
  it('stamps lines with the injected clock and sends them on end with the end mark', async () => {
    const clock = new ManualClock(5_000);
    const store = new MemoryLogStore();
    const shipper = new LogShipper({ store, attempt, clock });
    shipper.write('one', 'stdout');
    clock.advance(7);
    shipper.write('two', 'stderr');
    expect((await store.read(attempt)).lines).toEqual([]);
    await shipper.end();
    const page = await store.read(attempt);
    expect(page.lines).toEqual([
      { atMs: 5_000, stream: 'stdout', text: 'one' },
      { atMs: 5_007, stream: 'stderr', text: 'two' },
    ]);
    expect(page.ended).toBe(true);
    shipper.write('after the end');
    await shipper.flush();
    expect((await store.read(attempt)).lines).toHaveLength(2);
  });

  it('sends a buffer within flushEveryMs of its first line, without being asked', async () => {
    vi.useFakeTimers();
    const store = new MemoryLogStore();
    const shipper = new LogShipper({ store, attempt, clock: new ManualClock(0), flushEveryMs: 200 });
    shipper.write('early');
    await vi.advanceTimersByTimeAsync(199);
    expect((await store.read(attempt)).lines).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect((await store.read(attempt)).lines.map((l) => l.text)).toEqual(['early']);
  });

  it('sends a full batch at once, without waiting for the timer', async () => {
    const store = new MemoryLogStore();
    const shipper = new LogShipper({ store, attempt, clock: new ManualClock(0), batchLines: 3, flushEveryMs: 60_000 });
    for (let i = 0; i < 3; i++) shipper.write(`l${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await store.read(attempt)).lines.map((l) => l.text)).toEqual(['l0', 'l1', 'l2']);
    shipper.write('l3');
    await shipper.end();
    expect((await store.read(attempt)).lines).toHaveLength(4);
  });

  it('keeps lines while the store fails, sends them in order later, and counts what it had to give up', async () => {
    const memory = new MemoryLogStore();
    let failing = true;
    const errors: unknown[] = [];
    const store: LogStore = {
      ...memory,
      append: (a: LogAttempt, lines: readonly LogLine[], options?: { end?: boolean }) =>
        failing ? Promise.reject(new Error('down')) : memory.append(a, lines, options),
      read: (a, o) => memory.read(a, o),
    } as LogStore;
    const shipper = new LogShipper({
      store,
      attempt,
      clock: new ManualClock(0),
      maxBufferedLines: 3,
      onError: (e) => errors.push(e),
    });
    shipper.write('a');
    shipper.write('b');
    await shipper.flush();
    shipper.write('c');
    shipper.write('d');
    await shipper.flush();
    expect(errors).toHaveLength(2);
    failing = false;
    await shipper.end();
    const page = await memory.read(attempt);
    expect(page.lines.map((l) => l.text)).toEqual([
      '[batuta] 1 earlier lines were lost: the log store was unreachable',
      'b',
      'c',
      'd',
    ]);
    expect(page.ended).toBe(true);
  });

  it('cuts a very long line and says how much it cut', async () => {
    const store = new MemoryLogStore();
    const shipper = new LogShipper({ store, attempt, clock: new ManualClock(0) });
    shipper.write('x'.repeat(MAX_LOG_LINE_CHARS + 10));
    await shipper.end();
    const [line] = (await store.read(attempt)).lines;
    expect(line?.text.endsWith('… [10 more characters cut]')).toBe(true);
  });
});

describe('LineSplitter', () => {
  it.each([
    { chunks: ['a\nb\n'], lines: ['a', 'b'] },
    { chunks: ['a', 'b\nc', '\n'], lines: ['ab', 'c'] },
    { chunks: ['a\r\n', '\r\n'], lines: ['a', ''] },
    { chunks: ['no newline'], lines: ['no newline'] },
    { chunks: ['\n\n'], lines: ['', ''] },
  ])('splits $chunks into $lines', ({ chunks, lines }) => {
    const seen: string[] = [];
    const splitter = new LineSplitter((line) => seen.push(line));
    for (const chunk of chunks) splitter.push(chunk);
    splitter.end();
    expect(seen).toEqual(lines);
  });
});

describe('withConsoleCaptured', () => {
  it("sends a body's console lines, through its awaits, to its own sink and not to another body's", async () => {
    const a: string[] = [];
    const b: string[] = [];
    await Promise.all([
      withConsoleCaptured(
        (text, stream) => a.push(`${stream}:${text}`),
        async () => {
          console.log('a1', { n: 1 });
          await new Promise((resolve) => setImmediate(resolve));
          console.error('a2\nsecond');
        },
      ),
      withConsoleCaptured(
        (text, stream) => b.push(`${stream}:${text}`),
        async () => {
          await new Promise((resolve) => setImmediate(resolve));
          console.warn('b1');
        },
      ),
    ]);
    expect(a).toEqual(['stdout:a1 { n: 1 }', 'stderr:a2', 'stderr:second']);
    expect(b).toEqual(['stderr:b1']);
  });

  it('lets a sink write to the console itself without capturing its own writes (no endless recursion)', async () => {
    const seen: string[] = [];
    const real = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await withConsoleCaptured(
        (text) => {
          seen.push(text);
          console.error(`[task] ${text}`);
        },
        async () => console.log('hello'),
      );
    } finally {
      real.mockRestore();
    }
    expect(seen).toEqual(['hello']);
  });
});
