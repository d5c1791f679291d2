// The soak's DAG folder: chains, a fan-out, a mapped task, a flaky task that needs retries and a long
// task (to be caught by worker kills). Every shell task appends one ledger line per attempt,
// `run task mapIndex try`, after its work, and carries the marker in its command line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the checks need to know of one soak DAG. */
export interface SoakDag {
  id: string;
  /** Fire period of a scheduled DAG (its fires are startDate + k × period); undefined: manual only. */
  periodMs?: number;
  /** Shell tasks: each success must have exactly one ledger line for its final try. */
  effectTasks: string[];
  /** Of those, the mapped ones (their instances have mapIndex ≥ 0). */
  mappedTasks: string[];
}

export interface SoakDagFolder {
  dir: string;
  ledger: string;
  poolsFile: string;
  dags: SoakDag[];
  /** The schedules' anchor (ISO startDate of every scheduled DAG). */
  startDateMs: number;
}

/**
 * Writes the folder. Scheduled DAGs use `catchup: true` and a startDate just before now, so every fire
 * of the window must exist even when both schedulers were down at its time. `quick` keeps the same
 * shapes; only the full soak adds a `* * * * *` cron DAG (a quick window is too short for it).
 */
export function writeSoakDags(dir: string, marker: string, nowMs: number, quick: boolean): SoakDagFolder {
  const dags = join(dir, 'dags');
  mkdirSync(dags, { recursive: true });
  const ledger = join(dir, 'ledger.txt');
  writeFileSync(ledger, '');
  const poolsFile = join(dir, 'pools.yaml');
  writeFileSync(poolsFile, 'pools:\n  soak:\n    capacity: { cpu: 4, memoryMb: 4096 }\n    maxWorkers: 3\n');
  // Aligned on the minute, one minute back: every period below divides a minute.
  const startDateMs = Math.floor(nowMs / 60_000) * 60_000 - 60_000;
  const startDate = new Date(startDateMs).toISOString();
  const line = `echo "$BATUTA_RUN_ID $BATUTA_TASK_ID $BATUTA_MAP_INDEX $BATUTA_TRY_NUMBER" >> ${ledger}`;
  const effect = (seconds: number, after = '') => `': ${marker}; sleep ${seconds}; ${line}${after}'`;
  const head = (id: string, schedule?: string) =>
    `id: ${id}\n${schedule ? `schedule: ${schedule}\nstartDate: "${startDate}"\ncatchup: true\n` : ''}` +
    'defaults:\n  retry: { retries: 4, delay: 2s }\n  resources: { cpu: 1, memoryMb: 64 }\ntasks:\n';
  const files: Array<[SoakDag, string]> = [
    [
      { id: 'soak_chain', periodMs: 10_000, effectTasks: ['a', 'b', 'c'], mappedTasks: [] },
      `${head('soak_chain', '{ every: 10s }')}  a: { operator: shell, with: { command: ${effect(0.3)} } }
  b: { operator: shell, upstream: [a], with: { command: ${effect(0.3)} } }
  c: { operator: shell, upstream: [b], with: { command: ${effect(0.3)} } }
`,
    ],
    [
      { id: 'soak_fanout', periodMs: 15_000, effectTasks: ['p0', 'p1', 'p2', 'p3', 'join'], mappedTasks: [] },
      `${head('soak_fanout', '{ every: 15s }')}  start: { operator: empty }
${[0, 1, 2, 3].map((i) => `  p${i}: { operator: shell, upstream: [start], with: { command: ${effect(0.5 + i * 0.5)} } }`).join('\n')}
  join: { operator: shell, upstream: [p0, p1, p2, p3], with: { command: ${effect(0.2)} } }
`,
    ],
    [
      { id: 'soak_mapped', periodMs: 20_000, effectTasks: ['list', 'part', 'total'], mappedTasks: ['part'] },
      `${head('soak_mapped', '{ every: 20s }')}  list: { operator: shell, with: { output: json, command: ${effect(0.2, '; echo "[0,1,2,3,4]"')} } }
  part: { operator: shell, upstream: [list], map: { over: { item: list } }, with: { command: ${effect(1)} } }
  total: { operator: shell, upstream: [part], with: { command: ${effect(0.2)} } }
`,
    ],
    [
      // Fails its first two tries on purpose (after its ledger line): retries are part of the load.
      { id: 'soak_flaky', periodMs: 30_000, effectTasks: ['flaky', 'after'], mappedTasks: [] },
      `${head('soak_flaky', '{ every: 30s }')}  flaky: { operator: shell, retry: { retries: 6, delay: 1s }, with: { command: ${effect(0.3, '; test "$BATUTA_TRY_NUMBER" -ge 3')} } }
  after: { operator: shell, upstream: [flaky], with: { command: ${effect(0.2)} } }
`,
    ],
    [
      // Manual only: a task long enough that worker kills and stops land in the middle of it.
      { id: 'soak_long', effectTasks: ['long', 'after'], mappedTasks: [] },
      `${head('soak_long')}  long: { operator: shell, with: { command: ${effect(25)} } }
  after: { operator: shell, upstream: [long], with: { command: ${effect(0.2)} } }
`,
    ],
  ];
  if (!quick) {
    files.push([
      { id: 'soak_minutely', periodMs: 60_000, effectTasks: ['a', 'b'], mappedTasks: [] },
      `${head('soak_minutely', '"* * * * *"')}  a: { operator: shell, with: { command: ${effect(1)} } }
  b: { operator: shell, upstream: [a], with: { command: ${effect(1)} } }
`,
    ]);
  }
  for (const [, text] of files) writeFileSync(join(dags, `${text.slice(4, text.indexOf('\n'))}.yaml`), text);
  return { dir: dags, ledger, poolsFile, dags: files.map(([dag]) => dag), startDateMs };
}
