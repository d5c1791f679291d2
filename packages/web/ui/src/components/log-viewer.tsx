// One try's log, read a page at a time with the API's cursor. "Follow live" keeps asking with the cursor
// (at once when the event stream says the task changed, else every second) until the try's log ends, and
// keeps the view scrolled to the newest line.
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDate } from '../format.js';
import { useLiveRefresh } from '../live.js';
import { getLogs, type LogLine } from '../operations-api.js';

const FOLLOW_EVERY_MS = 1_000;
/** Lines kept in the page; older ones are dropped (the API still has them). */
const MAX_LINES = 20_000;
const SETTLED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);
const QUIET_READS_WHEN_SETTLED = 5;

export interface LogViewerProps {
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

export function LogViewer({ runId, taskId, mapIndex, tryNumber }: LogViewerProps) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [ended, setEnded] = useState(false);
  const [dropped, setDropped] = useState(0);
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState(false);
  const cursor = useRef<string>(undefined);
  const quietReads = useRef(0);
  const view = useRef<HTMLPreElement>(null);
  const reading = useRef<Promise<void>>(undefined);
  const key = `${runId}/${taskId}/${mapIndex}/${tryNumber}`;
  const current = useRef(key);
  current.current = key;

  /** Reads every page written since the cursor (one read at a time). */
  const readMore = () => {
    reading.current ??= (async () => {
      const asked = key;
      try {
        for (let pages = 0; pages < 50; pages++) {
          const page = await getLogs(runId, taskId, {
            mapIndex,
            tryNumber,
            ...(cursor.current ? { cursor: cursor.current } : {}),
          });
          if (current.current !== asked) return;
          cursor.current = page.cursor;
          // A try whose worker died never writes its end. Once a later try has begun, or the instance has
          // settled and a few more reads brought nothing (the last lines may trail the state), what the log
          // has is all it will have.
          const later = page.tries.some((t) => t > page.tryNumber);
          const settled = page.state !== undefined && SETTLED.has(page.state);
          quietReads.current = settled && page.lines.length === 0 ? quietReads.current + 1 : 0;
          setEnded(page.ended || later || quietReads.current >= QUIET_READS_WHEN_SETTLED);
          setDropped(page.droppedLines);
          if (page.lines.length > 0) {
            setLines((before) => {
              const all = before.concat(page.lines);
              return all.length > MAX_LINES ? all.slice(all.length - MAX_LINES) : all;
            });
          }
          setError(undefined);
          if (page.lines.length < 1_000) break; // not a full page: nothing more to read now
        }
      } catch (failure) {
        if (current.current === asked) setError(failure instanceof Error ? failure.message : String(failure));
      } finally {
        reading.current = undefined;
        if (current.current === asked) setLoaded(true);
      }
    })();
    return reading.current;
  };

  useEffect(() => {
    cursor.current = undefined;
    quietReads.current = 0;
    reading.current = undefined;
    setLines([]);
    setEnded(false);
    setLoaded(false);
    setDropped(0);
    void readMore();
  }, [key]);

  useEffect(() => {
    if (!follow || ended) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void readMore();
    }, FOLLOW_EVERY_MS);
    return () => clearInterval(timer);
  }, [follow, ended, key]);

  useLiveRefresh(
    async () => {
      if (follow && !ended) await readMore();
    },
    (change) => change.runId === runId && (change.tasks ?? []).some((t) => t.taskId === taskId),
  );

  // Keep the newest line in view while following.
  useEffect(() => {
    const element = view.current;
    if (follow && element) element.scrollTop = element.scrollHeight;
  }, [lines, follow]);

  return (
    <section class="logs" aria-labelledby="logs-title">
      <div class="section-head">
        <h2 id="logs-title">Log of try {tryNumber}</h2>
        <label class="check">
          <input
            type="checkbox"
            data-testid="log-follow"
            checked={follow}
            onChange={(e) => setFollow(e.currentTarget.checked)}
          />{' '}
          Follow live
        </label>
        <span class="muted" role="status">
          {!loaded ? 'Reading…' : ended ? 'The try has ended.' : follow ? 'Following…' : 'Paused.'}
        </span>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {dropped > 0 && <p class="muted">{dropped} older lines were dropped by the log store's cap.</p>}
      <pre
        ref={view}
        class="log-viewer"
        data-testid="log-viewer"
        role="log"
        aria-label={`Log of ${taskId}, try ${tryNumber}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
        tabIndex={0}
      >
        {loaded && lines.length === 0 && <span class="muted">No lines yet.</span>}
        {lines.map((line, index) => (
          <span key={index} class={`log-line log-${line.stream}`}>
            <span class="log-time" title={formatDate(line.time)}>
              {line.time.slice(11, 23)}
            </span>{' '}
            {line.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </section>
  );
}
