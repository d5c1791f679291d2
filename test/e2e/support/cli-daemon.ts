// A `batuta` daemon (webserver, serve …) as a child process of an end-to-end test: its stdout read as
// JSON lines, and the URL of its `<name>_started` line once it listens.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The CLI's executable (it loads the built dist/, as `npm test` builds first). */
export const batutaBin = join(import.meta.dirname, '..', '..', '..', 'packages', 'cli', 'bin', 'batuta.js');

export interface CliDaemon {
  child: ChildProcess;
  /** The address its started line gave. */
  url: string;
  /** Every JSON line it printed so far. */
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Starts `batuta …args` and resolves once it logs `startedEvent` (its `url`); rejects if it exits first. */
export async function startCliDaemon(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  startedEvent: string,
): Promise<CliDaemon> {
  const child = spawn(process.execPath, [batutaBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let rest = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        if (line.event === startedEvent) resolve(String(line.url));
      }
    });
    void exited.then((code) => reject(new Error(`batuta ${args[0]} exited ${code}: ${stderr}`)));
  });
  return { child, url, lines, exited };
}
