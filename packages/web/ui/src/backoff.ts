// How long the UI waits before reopening a dropped event stream: doubling from 1 s up to 30 s, with the
// upper half jittered so that many browsers cut off by one server restart do not come back in step.

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** The delay before the next attempt after `failures` failed ones in a row; `random` is in [0, 1). */
export function reconnectDelayMs(failures: number, random: number): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures));
  return Math.round(ceiling * (0.5 + random / 2));
}
