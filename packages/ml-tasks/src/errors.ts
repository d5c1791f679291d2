import { BatutaError } from '@batuta/scheduler';

/** Stable, machine-readable codes of every error @batuta/ml-tasks throws. */
export type MlTasksErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_MODEL'
  | 'FEATURE_COUNT_MISMATCH'
  | 'CSV_PARSE'
  | 'UNSUPPORTED_URL'
  | 'LOAD_FAILED'
  | 'KEY_SCHEME'
  | 'INGEST_FAILED'
  | 'VERSION_CONFLICT'
  | 'NO_PREVIOUS_VERSION'
  | 'NO_CURRENT_VERSION'
  | 'MODEL_INVALID'
  | 'MISSING_INPUT'
  | 'REDIS_UNAVAILABLE'
  /** The ingest safety gate refused a batch: no rows, or too few against the current version. */
  | 'INGEST_REFUSED'
  /** A trusted set whose labels do not line up with its features (one label per row). */
  | 'TRUSTED_SET_MISMATCH'
  /** A version marked bad (rolled back from, or forced in empty) asked to serve without force. */
  | 'VERSION_MARKED_BAD'
  /** A rollout already running for the model, or a state changed by someone else meanwhile. */
  | 'ROLLOUT_CONFLICT'
  /** No rollout for the model, or not one in the state the operation needs. */
  | 'NO_ROLLOUT'
  /** The live miss policy's remote model server failed or refused (its status and answer in the message). */
  | 'LIVE_SCORER_FAILED';

/** The base class of every error @batuta/ml-tasks throws; `code` is stable, `details` carries the figures. */
export class MlTasksError extends BatutaError<MlTasksErrorCode> {
  readonly details: Readonly<Record<string, unknown>>;
  /** false when retrying the same task cannot help (a bad model, a failed gate, bad input). */
  readonly retryable: boolean;

  constructor(
    code: MlTasksErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'MlTasksError';
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? false;
  }
}
