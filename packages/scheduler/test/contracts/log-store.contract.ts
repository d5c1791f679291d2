// The LogStore contract: every adapter keeps lines in order with their stream and time, applies the
// per-attempt and per-run caps the same way, marks ends, lists tries, follows, and removes a run's logs.
import { describe, expect, it } from 'vitest';
import { followLog } from '../../src/logs/follow-log.js';
import type { LogAttempt, LogCaps, LogLine, LogStore } from '../../src/logs/log-store.js';

/** Makes a fresh, empty store with the given caps (a new namespace or folder per call). */
export type LogStoreFactory = (caps?: Partial<LogCaps>) => Promise<LogStore>;

const attempt = (tryNumber = 1, taskId = 'extract', mapIndex = -1): LogAttempt => ({
  runId: 'manual__2026-01-01T00:00:00.000Z__dag',
  taskId,
  mapIndex,
  tryNumber,
});

const lines = (count: number, from = 0, atMs = 1_000): LogLine[] =>
  Array.from({ length: count }, (_, i) => ({
    atMs: atMs + from + i,
    stream: i % 3 === 0 ? 'stderr' : i % 3 === 1 ? 'stdout' : 'log',
    text: `line ${from + i}`,
  }));

async function readAll(store: LogStore, which: LogAttempt, limit?: number): Promise<LogLine[]> {
  const all: LogLine[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.read(which, { ...(after === undefined ? {} : { after }), ...(limit ? { limit } : {}) });
    if (page.lines.length === 0) return all;
    all.push(...page.lines);
    after = page.cursor;
  }
}

export function logStoreContract(name: string, create: LogStoreFactory): void {
  describe(`LogStore contract: ${name}`, () => {
    it('returns lines in append order with their time, stream and text, across batches and pages', async () => {
      const store = await create();
      await store.append(attempt(), lines(120));
      await store.append(attempt(), lines(80, 120));
      const read = await readAll(store, attempt(), 7);
      expect(read).toEqual(lines(200));
      await store.close();
    });

    it('keeps text exactly: unicode, tabs, quotes, backslashes and empty lines', async () => {
      const store = await create();
      const odd = ['', 'tab\there', 'quote " and \\ backslash', 'ñandú 🚀', '{"t":1}', '{"end":true}'];
      await store.append(
        attempt(),
        odd.map((text, i) => ({ atMs: i, stream: 'stdout', text })),
      );
      expect((await readAll(store, attempt())).map((l) => l.text)).toEqual(odd);
      const page = await store.read(attempt());
      expect(page.ended).toBe(false);
      await store.close();
    });

    it('reads on from a cursor only what was appended after it', async () => {
      const store = await create();
      await store.append(attempt(), lines(3));
      const first = await store.read(attempt());
      expect(first.lines).toHaveLength(3);
      const nothing = await store.read(attempt(), { after: first.cursor });
      expect(nothing.lines).toEqual([]);
      await store.append(attempt(), lines(2, 3));
      const next = await store.read(attempt(), { after: nothing.cursor });
      expect(next.lines).toEqual(lines(2, 3));
      await store.close();
    });

    it('keeps each try apart and lists the tries that have a log', async () => {
      const store = await create();
      await store.append(attempt(1), lines(2));
      await store.append(attempt(2), lines(3, 100));
      await store.append(attempt(1, 'extract', 0), lines(1));
      await store.append(attempt(3), [], { end: true });
      expect((await readAll(store, attempt(1))).map((l) => l.text)).toEqual(['line 0', 'line 1']);
      expect(await readAll(store, attempt(2))).toHaveLength(3);
      expect(await store.tries(attempt().runId, 'extract', -1)).toEqual([1, 2, 3]);
      expect(await store.tries(attempt().runId, 'extract', 0)).toEqual([1]);
      expect(await store.tries(attempt().runId, 'other', -1)).toEqual([]);
      await store.close();
    });

    it('marks the end of an attempt with its last batch', async () => {
      const store = await create();
      await store.append(attempt(), lines(2));
      expect((await store.read(attempt())).ended).toBe(false);
      await store.append(attempt(), lines(1, 2), { end: true });
      const page = await store.read(attempt());
      expect(page.ended).toBe(true);
      expect(page.lines).toHaveLength(3);
      await store.close();
    });

    it('keeps the first lines of an attempt up to its cap and counts the rest as dropped', async () => {
      const store = await create({ maxLinesPerAttempt: 10 });
      await store.append(attempt(), lines(6));
      await store.append(attempt(), lines(6, 6));
      await store.append(attempt(), lines(3, 12));
      const page = await store.read(attempt());
      expect(page.lines).toEqual(lines(10));
      expect(page.droppedLines).toBe(5);
      // The cap is per attempt: the next try starts empty.
      await store.append(attempt(2), lines(4));
      expect((await store.read(attempt(2))).lines).toHaveLength(4);
      await store.close();
    });

    it('keeps the texts, streams and times of the lines it keeps at a cap exactly', async () => {
      const store = await create({ maxLinesPerAttempt: 3 });
      const odd: LogLine[] = [
        { atMs: 10, stream: 'stdout', text: 'a, b, c' },
        { atMs: 15, stream: 'stderr', text: '' },
        { atMs: 9, stream: 'log', text: 'ñandú, 🚀' },
        { atMs: 20, stream: 'stdout', text: 'dropped' },
      ];
      await store.append(attempt(), odd);
      const page = await store.read(attempt());
      expect(page.lines).toEqual(odd.slice(0, 3));
      expect(page.droppedLines).toBe(1);
      await store.close();
    });

    it('caps the lines of a whole run across its attempts', async () => {
      const store = await create({ maxLinesPerRun: 8 });
      await store.append(attempt(1, 'a'), lines(5));
      await store.append(attempt(1, 'b'), lines(5));
      await store.append(attempt(1, 'c'), lines(2));
      expect((await store.read(attempt(1, 'a'))).lines).toHaveLength(5);
      const b = await store.read(attempt(1, 'b'));
      expect(b.lines).toHaveLength(3);
      expect(b.droppedLines).toBe(2);
      const c = await store.read(attempt(1, 'c'));
      expect(c.lines).toEqual([]);
      expect(c.droppedLines).toBe(2);
      await store.close();
    });

    it('removes every log of a run and nothing of another run', async () => {
      const store = await create();
      const other: LogAttempt = { ...attempt(), runId: 'manual__other' };
      await store.append(attempt(1), lines(2));
      await store.append(attempt(2), lines(2));
      await store.append(other, lines(2));
      expect(await store.removeRun(attempt().runId)).toBe(2);
      expect((await store.read(attempt(1))).lines).toEqual([]);
      expect(await store.tries(attempt().runId, 'extract', -1)).toEqual([]);
      expect((await store.read(other)).lines).toHaveLength(2);
      // The run's cap counts from zero again.
      await store.append(attempt(1), lines(1));
      expect((await store.read(attempt(1))).lines).toHaveLength(1);
      await store.close();
    });

    it.each([
      ['smaller than', 5],
      ['equal to', 12],
      ['larger than', 50],
    ])('reads the last lines, oldest first, with a tail %s the log', async (_, tail) => {
      const store = await create();
      const batches = [lines(4), lines(5, 4), lines(3, 9)];
      for (const batch of batches) await store.append(attempt(), batch);
      const page = await store.read(attempt(), { tail });
      expect(page.lines).toEqual(batches.flat().slice(-tail));
      expect(page.ended).toBe(false);
      expect(page.droppedLines).toBe(0);
      await store.close();
    });

    it('reads no lines with a tail of 0, and a cursor after the last line', async () => {
      const store = await create();
      await store.append(attempt(), lines(3));
      const page = await store.read(attempt(), { tail: 0 });
      expect(page.lines).toEqual([]);
      expect((await store.read(attempt(), { after: page.cursor })).lines).toEqual([]);
      await store.append(attempt(), lines(2, 3));
      expect((await store.read(attempt(), { after: page.cursor })).lines).toEqual(lines(2, 3));
      await store.close();
    });

    it('reads a tail of a log that does not exist yet as empty, and follows from it', async () => {
      const store = await create();
      const page = await store.read(attempt(), { tail: 10 });
      expect(page).toMatchObject({ lines: [], ended: false, droppedLines: 0 });
      await store.append(attempt(), lines(2));
      expect((await store.read(attempt(), { after: page.cursor })).lines).toEqual(lines(2));
      await store.close();
    });

    it('follows on from a tail with only the lines appended after it', async () => {
      const store = await create();
      await store.append(attempt(), lines(30));
      const tail = await store.read(attempt(), { tail: 4 });
      expect(tail.lines).toEqual(lines(30).slice(-4));
      expect((await store.read(attempt(), { after: tail.cursor })).lines).toEqual([]);
      await store.append(attempt(), lines(3, 30));
      await store.append(attempt(), lines(2, 33), { end: true });
      const next = await store.read(attempt(), { after: tail.cursor });
      expect(next.lines).toEqual([...lines(3, 30), ...lines(2, 33)]);
      expect(next.ended).toBe(true);
      await store.close();
    });

    it('keeps long non-ASCII lines whole in a tail', async () => {
      const store = await create();
      // Over 64 KiB each, of 2-, 3- and 4-byte characters, so any chunked read splits some of them.
      const long: LogLine[] = Array.from({ length: 6 }, (_, i) => ({
        atMs: i,
        stream: 'stdout',
        text: `${i}:${'ñ€🚀'.repeat(7_000 + i * 1_001)}`,
      }));
      await store.append(attempt(), [...lines(3), ...long]);
      expect((await store.read(attempt(), { tail: 4 })).lines).toEqual(long.slice(-4));
      expect((await store.read(attempt(), { tail: 100 })).lines).toEqual([...lines(3), ...long]);
      await store.close();
    });

    it('says in a tail that the log ended and how many lines the caps refused', async () => {
      const store = await create({ maxLinesPerAttempt: 10 });
      await store.append(attempt(), lines(8));
      expect((await store.read(attempt(), { tail: 2 })).ended).toBe(false);
      await store.append(attempt(), lines(5, 8));
      await store.append(attempt(), lines(2, 13), { end: true });
      for (const tail of [0, 1, 10, 20]) {
        const page = await store.read(attempt(), { tail });
        const kept = [...lines(8), ...lines(2, 8)];
        expect(page.lines).toEqual(kept.slice(10 - Math.min(tail, 10)));
        expect(page.ended).toBe(true);
        expect(page.droppedLines).toBe(5);
      }
      await store.close();
    });

    it('refuses a tail with a cursor, and a tail that is not a whole number from 0', async () => {
      const store = await create();
      await store.append(attempt(), lines(2));
      const { cursor } = await store.read(attempt());
      await expect(store.read(attempt(), { tail: 1, after: cursor })).rejects.toMatchObject({ code: 'LOG_BAD_READ' });
      await expect(store.read(attempt(), { tail: -1 })).rejects.toMatchObject({ code: 'LOG_BAD_READ' });
      await expect(store.read(attempt(), { tail: 1.5 })).rejects.toMatchObject({ code: 'LOG_BAD_READ' });
      await store.close();
    });

    it('follows from the last lines when asked for a tail', async () => {
      const store = await create();
      await store.append(attempt(), lines(20));
      const seen: string[] = [];
      let waits = 0;
      const follow = followLog(store, attempt(), {
        tail: 3,
        sleep: async () => {
          waits++;
          if (waits === 1) await store.append(attempt(), lines(2, 20), { end: true });
        },
      });
      for await (const page of follow) seen.push(...page.lines.map((l) => l.text));
      expect(seen).toEqual(['line 17', 'line 18', 'line 19', 'line 20', 'line 21']);
      await store.close();
    });

    it('follows a log as it grows and stops at the end mark', async () => {
      const store = await create();
      await store.append(attempt(), lines(2));
      const seen: string[] = [];
      let waits = 0;
      const follow = followLog(store, attempt(), {
        sleep: async () => {
          waits++;
          if (waits === 1) await store.append(attempt(), lines(2, 2));
          if (waits === 2) await store.append(attempt(), lines(1, 4), { end: true });
        },
      });
      for await (const page of follow) seen.push(...page.lines.map((l) => l.text));
      expect(seen).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
      expect(waits).toBe(2);
      await store.close();
    });

    it('stops following an attempt that is no longer running without an end mark (a killed worker)', async () => {
      const store = await create();
      await store.append(attempt(), lines(2));
      let asked = 0;
      const seen: string[] = [];
      for await (const page of followLog(store, attempt(), {
        sleep: async () => {},
        stillRunning: async () => {
          asked++;
          if (asked === 1) {
            await store.append(attempt(), lines(1, 2));
            return true;
          }
          return false;
        },
      })) {
        seen.push(...page.lines.map((l) => l.text));
      }
      expect(seen).toEqual(['line 0', 'line 1', 'line 2']);
      await store.close();
    });
  });
}
