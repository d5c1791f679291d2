// One try's log, read a page at a time with the API's cursor. A long log opens at its end (its last
// `TAIL_LINES`), saying that earlier lines are not shown and offering to load it from the start.
// "Follow live" keeps asking with the cursor (at once when the event stream says the task changed, else
// every second) until the try's log ends, and keeps the view scrolled to the newest line.
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDate } from '../format.js';
import { useLiveRefresh } from '../live.js';
import { getLogs, type LogLine } from '../operations-api.js';

const FOLLOW_EVERY_MS = 1_000;
/** Lines a log opens with: its last ones. */
const TAIL_LINES = 1_000;
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
  /** Opened at the end and the log has lines before the ones shown. */
  const [earlierHidden, setEarlierHidden] = useState(false);
  const cursor = useRef<string>(undefined);
  const quietReads = useRef(0);
  const view = useRef<HTMLPreElement>(null);
  const reading = useRef<Promise<void>>(undefined);
  /** The next read is the first one and asks for the log's end (one line more, to know if any is hidden). */
  const atTail = useRef(true);
  const scrollToTop = useRef(false);
  const key = `${runId}/${taskId}/${mapIndex}/${tryNumber}`;
  /** Bumped by each restart (another try, or from the start): a read of an earlier one is discarded. */
  const generation = useRef(0);

  /** Reads every page written since the cursor (one read at a time). */
  const readMore = () => {
    reading.current ??= (async () => {
      const asked = generation.current;
      try {
        for (let pages = 0; pages < 50; pages++) {
          const tail = atTail.current;
          const page = await getLogs(runId, taskId, {
            mapIndex,
            tryNumber,
            ...(tail ? { tail: TAIL_LINES + 1 } : cursor.current ? { cursor: cursor.current } : {}),
          });
          if (generation.current !== asked) return;
          cursor.current = page.cursor;
          if (tail) {
            atTail.current = false;
            const hidden = page.lines.length > TAIL_LINES;
            setEarlierHidden(hidden);
            if (hidden) page.lines = page.lines.slice(1);
          }
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
          // Not a full page: nothing more to read now (a tail holds every line up to the end).
          if (tail || page.lines.length < 1_000) break;
        }
      } catch (failure) {
        if (generation.current === asked) setError(failure instanceof Error ? failure.message : String(failure));
      } finally {
        if (generation.current === asked) {
          reading.current = undefined;
          setLoaded(true);
        }
      }
    })();
    return reading.current;
  };

  /** Starts reading again: from the end (a try opened) or from the first line (asked for). */
  const restart = (fromTheEnd: boolean) => {
    generation.current++;
    cursor.current = undefined;
    quietReads.current = 0;
    reading.current = undefined;
    atTail.current = fromTheEnd;
    setLines([]);
    setEnded(false);
    setLoaded(false);
    setDropped(0);
    setEarlierHidden(false);
    void readMore();
  };

  useEffect(() => restart(true), [key]);

  /** Reads the whole log from its first line, paused at the top so it can be read from there. */
  const loadFromStart = () => {
    setFollow(false);
    scrollToTop.current = true;
    restart(false);
    // The button goes away: keep the keyboard in the log rather than at the page's start.
    view.current?.focus();
  };

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

  // Keep the newest line in view while following; a log loaded from the start opens at its top.
  useEffect(() => {
    const element = view.current;
    if (!element) return;
    if (scrollToTop.current) {
      if (lines.length > 0) scrollToTop.current = false;
      element.scrollTop = 0;
    } else if (follow) element.scrollTop = element.scrollHeight;
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
      {dropped > 0 && (
        <p class="muted">
          {dropped} later lines were not kept: the log store keeps an attempt's first lines up to its cap.
        </p>
      )}
      {earlierHidden && (
        <p class="muted" id="logs-earlier" data-testid="log-earlier">
          Showing the last {TAIL_LINES.toLocaleString('en')} lines; earlier lines are not shown.{' '}
          <button type="button" data-testid="log-from-start" onClick={loadFromStart}>
            Load from the start
          </button>
        </p>
      )}
      <pre
        ref={view}
        class="log-viewer"
        data-testid="log-viewer"
        role="log"
        aria-label={`Log of ${taskId}, try ${tryNumber}`}
        aria-describedby={earlierHidden ? 'logs-earlier' : undefined}
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
