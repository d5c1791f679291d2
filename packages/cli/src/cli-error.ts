import { BatutaError } from '@batuta/scheduler';

/** Every code an error of the CLI carries. */
export type CliErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'UNREACHABLE'
  | 'DEMO_FILES_MISSING'
  | 'INVALID_FILE'
  | 'CANNOT_EXPAND';

/** The documented exit codes of `batuta` (docs/cli.md): scripts may rely on them. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** A run failed, a file is invalid, or the command could not do its work. */
  failed: 1,
  /** The command line is wrong: unknown command or option, bad value, missing argument. */
  usage: 2,
  /** What the command names does not exist: a DAG, a run, a file. */
  notFound: 3,
  /** Redis did not answer. */
  unreachable: 4,
} as const;

/** An error of the CLI itself (not a usage problem). */
export class CliError extends BatutaError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string) {
    super(code, message);
    this.name = 'CliError';
  }
}

/** A usage problem: printed with the command's help hint, exit code 2. */
export class UsageError extends BatutaError<CliErrorCode> {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** What the command names does not exist (a DAG, a run, a file): exit code 3, so scripts can tell. */
export class NotFoundError extends BatutaError<CliErrorCode> {
  constructor(message: string) {
    super('NOT_FOUND', message);
    this.name = 'NotFoundError';
  }
}

/** Redis did not answer (refused, timed out, bad TLS): exit code 4, so scripts can retry later. */
export class UnreachableError extends BatutaError<CliErrorCode> {
  constructor(message: string) {
    super('UNREACHABLE', message);
    this.name = 'UnreachableError';
  }
}
