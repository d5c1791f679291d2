// Shell tasks of the soak carry a marker in their command line (`: batuta-soak-<pid>; …`). Reading
// /proc finds them wherever they are: under a live worker, or orphaned after their worker died.
import { readdirSync, readFileSync } from 'node:fs';

/** A live process whose command line carries the marker, with the attempt it runs (from its environment). */
export interface MarkedProcess {
  pid: number;
  parentPid: number;
  attempt: string;
  command: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process is gone, or not ours to read
  }
}

/** Every live process whose command line contains `marker` (zombies excluded). */
export function markedProcesses(marker: string): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const command = read(`/proc/${entry}/cmdline`)?.split('\0').join(' ');
    if (!command?.includes(marker)) continue;
    const stat = read(`/proc/${entry}/stat`);
    // Fields after the command name in parentheses: state, ppid, …
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ') ?? [];
    if (fields[0] === 'Z' || fields[0] === undefined) continue;
    const environment = new Map(
      (read(`/proc/${entry}/environ`) ?? '')
        .split('\0')
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
    );
    const attempt = ['BATUTA_RUN_ID', 'BATUTA_TASK_ID', 'BATUTA_MAP_INDEX', 'BATUTA_TRY_NUMBER']
      .map((name) => environment.get(name) ?? '?')
      .join(' ');
    found.push({ pid: Number(entry), parentPid: Number(fields[1]), attempt, command });
  }
  return found;
}

/** The marked processes among the descendants of `pid` (its shell tasks, however deep). */
export function markedDescendants(pid: number, marker: string): MarkedProcess[] {
  const marked = markedProcesses(marker);
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (stat) parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const descends = (candidate: number): boolean => {
    for (let at = parents.get(candidate), hops = 0; at !== undefined && at > 1 && hops < 64; hops++) {
      if (at === pid) return true;
      at = parents.get(at);
    }
    return false;
  };
  return marked.filter((process) => descends(process.pid));
}

/** Whether `process` is still alive with the same command line (not a reused pid). */
export function stillAlive(process: MarkedProcess, marker: string): boolean {
  const command = read(`/proc/${process.pid}/cmdline`)?.split('\0').join(' ');
  if (command === undefined || !command.includes(marker) || command !== process.command) return false;
  const stat = read(`/proc/${process.pid}/stat`);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}
