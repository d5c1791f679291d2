// A TS or module task's `console` output belongs in its attempt's log, not on the worker's stdout (which
// stays pure JSON lines). The console is patched once per process; a call made inside an attempt (any
// async continuation of its body) goes to that attempt's sink, any other call to the real console.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogStream } from './log-store.js';

/** Where a captured line goes. */
export type LogSink = (text: string, stream: LogStream) => void;

const current = new AsyncLocalStorage<LogSink>();
let installed = false;

const METHODS: ReadonlyArray<[keyof Console, LogStream]> = [
  ['log', 'stdout'],
  ['info', 'stdout'],
  ['debug', 'stdout'],
  ['warn', 'stderr'],
  ['error', 'stderr'],
];

function install(): void {
  if (installed) return;
  installed = true;
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, stream] of METHODS) {
    const original = target[method]!.bind(console);
    target[method] = (...args: unknown[]) => {
      const sink = current.getStore();
      if (!sink) return original(...args);
      // The sink runs outside the capture: a sink that itself writes to the console (`batuta tasks test`
      // prints a task's lines on stderr) reaches the real console instead of calling itself for ever.
      const lines = format(...args).split('\n');
      current.exit(() => {
        for (const line of lines) sink(line, stream);
      });
    };
  }
}

/** Runs `body` with its `console.log/info/debug` (stdout) and `warn/error` (stderr) lines sent to `sink`. */
export function withConsoleCaptured<T>(sink: LogSink, body: () => T): T {
  install();
  return current.run(sink, body);
}
