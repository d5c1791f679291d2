// Entry point of `batuta`: builds the commander program (src/program/), runs it, and turns what went
// wrong into the documented exit codes (EXIT in cli-error.ts, docs/cli.md).
import { DagValidationError, isBatutaError, redactCredentials } from '@batuta/scheduler';
import { CommanderError } from 'commander';
import { EXIT, NotFoundError, UnreachableError, UsageError } from './cli-error.js';
import { buildProgram } from './program/program.js';
import type { RunState } from './program/shared.js';

/** Node's error codes that mean the server did not answer (rather than a file problem). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Entry point of the `batuta` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const state: RunState = { exitCode: EXIT.ok };
  const program = buildProgram(state);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (error) {
    return exitCodeOf(error, state.command ?? argv[0] ?? '');
  }
}

/** Prints what went wrong (credentials masked) and returns its exit code; rethrows a bug. */
function exitCodeOf(error: unknown, command: string): number {
  if (error instanceof CommanderError) {
    // Commander printed its message (with "Did you mean …?") already; help and version are not errors.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const message = redactCredentials(error instanceof Error ? error.message : String(error));
  if (error instanceof UsageError) {
    console.error(`batuta ${command}: ${message}\nRun 'batuta ${command} --help' for usage.`);
    return EXIT.usage;
  }
  if (error instanceof NotFoundError) {
    console.error(`batuta ${command}: ${message}`);
    return EXIT.notFound;
  }
  if (error instanceof UnreachableError || isBatutaError(error, 'STORE_UNAVAILABLE') || isUnreachable(error)) {
    console.error(`batuta ${command}: ${message}`);
    return EXIT.unreachable;
  }
  if (error instanceof DagValidationError) {
    console.error(error.message);
    return EXIT.failed;
  }
  // Every Batuta error (any package) and Node's system errors (ENOENT…) are the user's to fix.
  if (isBatutaError(error) || isNodeSystemError(error)) {
    console.error(`batuta ${command}: ${message}`);
    return EXIT.failed;
  }
  throw error;
}

/** A connection Node or ioredis gave up on. */
function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (isNodeSystemError(error) && UNREACHABLE_CODES.has(String(error.code))) return true;
  return error.name === 'MaxRetriesPerRequestError';
}

/** An error Node raised for a file or a connection (it carries a string `code` such as ENOENT). */
function isNodeSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
