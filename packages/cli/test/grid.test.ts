// The live grid of `batuta dags test`: a retried task's duration is its current try's, never negative.
import type { DagSpec, TaskInstanceRecord } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { RunGrid } from '../src/render/grid.js';

const dag = { id: 'd', tasks: [{ id: 'flaky' }] } as unknown as DagSpec;

function instance(patch: Partial<TaskInstanceRecord>): TaskInstanceRecord {
  return { runId: 'r', taskId: 'flaky', mapIndex: -1, state: 'running', tryNumber: 1, ...patch } as TaskInstanceRecord;
}

describe('RunGrid', () => {
  it("times a second try from its own start, not from the first try's end", () => {
    const lines: string[] = [];
    const out = { write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const grid = new RunGrid(dag, out, false);
    grid.update(instance({ state: 'running', startMs: 100 }));
    grid.update(instance({ state: 'up_for_retry', startMs: 100, endMs: 200 }));
    grid.update(instance({ state: 'running', tryNumber: 2, startMs: 1_300 }));
    const summary = grid.summary(1_500);
    expect(summary).toMatch(/flaky\s+running\s+2\s+200 ms/);
    expect(summary).not.toMatch(/-\d+ ms/);
    expect(lines.at(-1)).toMatch(/try 2 /);
    expect(lines.join('')).not.toMatch(/-\d+ ms/);
  });
});
