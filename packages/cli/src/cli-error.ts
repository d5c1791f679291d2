import { BatutaError } from '@batuta/scheduler';

/** Every code an error of the CLI carries. */
export type CliErrorCode = 'USAGE' | 'NOT_FOUND' | 'DEMO_FILES_MISSING';

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
