// Task states as every view shows them: which state a group of mapped instances is summarised by (the one
// that most needs a look) and how many are in each state.

/** Most urgent first. */
export const STATE_URGENCY = [
  'failed',
  'upstream_failed',
  'up_for_retry',
  'running',
  'queued',
  'scheduled',
  'none',
  'skipped',
  'removed',
  'success',
] as const;

const rank = (state: string) => {
  const index = (STATE_URGENCY as readonly string[]).indexOf(state);
  return index === -1 ? STATE_URGENCY.length : index;
};

/** A group of instances of one task: the state it shows, and the count per state (most urgent first). */
export interface StateSummary {
  state: string;
  total: number;
  counts: [state: string, count: number][];
}

export function summariseStates(states: readonly string[]): StateSummary {
  const counts = new Map<string, number>();
  for (const state of states) counts.set(state, (counts.get(state) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => rank(a[0]) - rank(b[0]));
  return { state: sorted[0]?.[0] ?? 'none', total: states.length, counts: sorted };
}

/** "3 success, 1 failed". */
export const describeCounts = (summary: StateSummary) => summary.counts.map(([s, n]) => `${n} ${s}`).join(', ');
