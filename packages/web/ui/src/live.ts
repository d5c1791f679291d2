// Live updates: one EventSource on GET /api/events/stream for the whole UI, shared by every page. A page
// says which changes concern it and how to read its state again; the refetches are debounced (a burst of
// changes is one read, and never two reads at once), so a busy scheduler cannot set off a request storm.
// A dropped stream is reopened with a growing delay; while it is down, pages fall back to a slow poll, and
// once it is back they read again (changes sent meanwhile were missed).
import { useEffect, useRef, useState } from 'preact/hooks';
import { reconnectDelayMs } from './backoff.js';

/** One change notice of the store, as the stream sends it. */
export interface LiveChange {
  runId: string;
  dagId: string;
  created?: boolean;
  runState?: string;
  tasks?: { taskId: string; mapIndex: number; state: string; tryNumber: number }[];
}

/** `idle`: no page on screen wants live updates, so the stream is closed. */
export type LiveStatus = 'idle' | 'connecting' | 'live' | 'down';

interface Subscriber {
  change(change: LiveChange): void;
  resync(): void;
}

const STREAM_PATH = '/api/events/stream';
/** How often pages read again while the stream is down: a safety net, not the way updates come. */
export const FALLBACK_POLL_MS = 30_000;
/** How long the stream stays open with no page listening (a page change closes and reopens in one go). */
const CLOSE_GRACE_MS = 2_000;

const subscribers = new Set<Subscriber>();
const statusListeners = new Set<(status: LiveStatus) => void>();
let source: EventSource | undefined;
let status: LiveStatus = 'idle';
let failures = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let fallbackTimer: ReturnType<typeof setInterval> | undefined;
let closeTimer: ReturnType<typeof setTimeout> | undefined;

function setStatus(next: LiveStatus): void {
  if (next === status) return;
  status = next;
  if (next === 'down') {
    fallbackTimer ??= setInterval(() => {
      if (document.visibilityState === 'visible') for (const subscriber of subscribers) subscriber.resync();
    }, FALLBACK_POLL_MS);
  } else if (fallbackTimer !== undefined) {
    clearInterval(fallbackTimer);
    fallbackTimer = undefined;
  }
  for (const listener of statusListeners) listener(next);
}

function open(): void {
  if (source || retryTimer !== undefined) return;
  setStatus(failures === 0 ? 'connecting' : 'down');
  const stream = new EventSource(STREAM_PATH, { withCredentials: true });
  source = stream;
  stream.addEventListener('ready', () => {
    failures = 0;
    setStatus('live');
    // What changed before the stream listened (or while it was down) was not sent: read it once.
    for (const subscriber of subscribers) subscriber.resync();
  });
  stream.addEventListener('change', (event) => {
    let change: LiveChange;
    try {
      change = JSON.parse((event as MessageEvent<string>).data) as LiveChange;
    } catch {
      return;
    }
    for (const subscriber of subscribers) subscriber.change(change);
  });
  stream.onerror = () => {
    // EventSource would retry on its own at a fixed pace; we retry with a growing, jittered delay instead.
    stream.close();
    if (source === stream) source = undefined;
    setStatus('down');
    const delayMs = reconnectDelayMs(failures, Math.random());
    failures++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (subscribers.size > 0) open();
    }, delayMs);
  };
}

function close(): void {
  source?.close();
  source = undefined;
  if (retryTimer !== undefined) clearTimeout(retryTimer);
  retryTimer = undefined;
  failures = 0;
  setStatus('idle');
}

function subscribe(subscriber: Subscriber): () => void {
  subscribers.add(subscriber);
  if (closeTimer !== undefined) clearTimeout(closeTimer);
  closeTimer = undefined;
  open();
  return () => {
    subscribers.delete(subscriber);
    if (subscribers.size === 0) {
      closeTimer = setTimeout(() => {
        closeTimer = undefined;
        if (subscribers.size === 0) close();
      }, CLOSE_GRACE_MS);
    }
  };
}

/** Waits this long after a change for more to come before reading again … */
const QUIET_MS = 150;
/** … but reads no later than this after the first change of a burst (a state change shows within 1 s). */
const MAX_WAIT_MS = 600;

/** What a refresh is for: the runs that changed since the last one, or everything (`resync`). */
export interface LiveBatch {
  resync: boolean;
  runIds: ReadonlySet<string>;
  created: boolean;
}

/**
 * Calls `refresh` when a change `concerns` the page (debounced; one call at a time), when the stream
 * (re)connects, and on the slow fallback poll while the stream is down.
 */
export function useLiveRefresh(
  refresh: (batch: LiveBatch) => Promise<unknown>,
  concerns: (change: LiveChange) => boolean,
): void {
  const latest = useRef({ refresh, concerns });
  latest.current = { refresh, concerns };

  useEffect(() => {
    let quietTimer: ReturnType<typeof setTimeout> | undefined;
    let firstChangeAt: number | undefined;
    let running = false;
    let again = false;
    let stopped = false;
    let batch = { resync: false, runIds: new Set<string>(), created: false };

    const run = async () => {
      if (quietTimer !== undefined) clearTimeout(quietTimer);
      quietTimer = undefined;
      firstChangeAt = undefined;
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      const taken = batch;
      batch = { resync: false, runIds: new Set<string>(), created: false };
      try {
        await latest.current.refresh(taken);
      } catch {
        // The page shows its own errors; the next change or poll tries again.
      } finally {
        running = false;
      }
      if (again && !stopped) {
        again = false;
        void run();
      }
    };

    const soon = () => {
      const now = performance.now();
      firstChangeAt ??= now;
      if (quietTimer !== undefined) clearTimeout(quietTimer);
      const waitMs = Math.max(0, Math.min(QUIET_MS, firstChangeAt + MAX_WAIT_MS - now));
      quietTimer = setTimeout(() => void run(), waitMs);
    };

    const unsubscribe = subscribe({
      change: (change) => {
        if (!latest.current.concerns(change)) return;
        batch.runIds.add(change.runId);
        if (change.created) batch.created = true;
        soon();
      },
      resync: () => {
        batch.resync = true;
        soon();
      },
    });
    return () => {
      stopped = true;
      if (quietTimer !== undefined) clearTimeout(quietTimer);
      unsubscribe();
    };
  }, []);
}

/** The stream's status now, for the header's indicator. */
export function useLiveStatus(): LiveStatus {
  const [now, setNow] = useState(status);
  useEffect(() => {
    setNow(status);
    statusListeners.add(setNow);
    return () => {
      statusListeners.delete(setNow);
    };
  }, []);
  return now;
}
