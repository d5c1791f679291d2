import { BatutaError } from '@batuta/scheduler';

/** Every code an error of the CLI carries. */
export type CliErrorCode = 'USAGE';

/** A usage problem: printed with the command's help hint, exit code 2. */
export class UsageError extends BatutaError<CliErrorCode> {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}
