// Runs the real `batuta` program in this process (the same `main` bin/batuta.js calls) and returns its
// exit code and what it printed on stdout and stderr.
import { vi } from 'vitest';
import { main } from '../../src/main.js';

/** What one `batuta …` printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `batuta ARGV…` in this process. */
export async function runCli(argv: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const text = (parts: unknown[]) => parts.map(String).join(' ');
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void stdout.push(text(parts)));
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void stderr.push(text(parts)));
  try {
    const code = await main(argv);
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
