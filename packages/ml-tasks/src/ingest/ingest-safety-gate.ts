// The ingest safety gate: a batch that would leave consumers with no predictions, or with far
// fewer than they have now, is almost always an upstream accident (a header-only CSV, a filter
// gone wrong, a truncated file). Committing it would make most lookups miss at once, so it is
// refused unless the operator says `force`. Pure: the caller reads the counts and applies the verdict.
import { MlTasksError } from '../errors.js';

/** The share of the current version's rows a new batch must keep when nothing else is said. */
export const DEFAULT_MIN_KEEP_SHARE = 0.5;

/** What the gate decided about one batch, recorded on the version it produced. */
export interface IngestGateRecord {
  /** `passed`: within bounds; `forced`: out of bounds and committed because `force` was given. */
  verdict: 'passed' | 'forced';
  rows: number;
  /** The version consumers were reading, and its rows, when there was one. */
  previousVersion?: string;
  previousRows?: number;
  minKeepShare: number;
  /** Why the batch was out of bounds (only when forced). */
  reason?: string;
}

/** The counts the gate weighs. */
export interface IngestGateInput {
  model: string;
  rows: number;
  previousVersion?: string | undefined;
  previousRows?: number | undefined;
  /** In [0, 1]; 0 turns the shrink check off (an empty batch is still refused). */
  minKeepShare?: number | undefined;
  force?: boolean | undefined;
}

/** Throws INVALID_ARGUMENT unless `share` is a number in [0, 1]. */
export function checkMinKeepShare(share: number): number {
  if (!(Number.isFinite(share) && share >= 0 && share <= 1)) {
    throw new MlTasksError('INVALID_ARGUMENT', `minKeepShare must be a number from 0 to 1, got ${share}`);
  }
  return share;
}

/** Returns the verdict for a batch, or throws INGEST_REFUSED (not retryable) when it is out of bounds. */
export function ingestSafetyVerdict(input: IngestGateInput): IngestGateRecord {
  const minKeepShare = checkMinKeepShare(input.minKeepShare ?? DEFAULT_MIN_KEEP_SHARE);
  const previous =
    input.previousVersion !== undefined && input.previousRows !== undefined
      ? { previousVersion: input.previousVersion, previousRows: input.previousRows }
      : {};
  let reason: string | undefined;
  if (input.rows === 0) {
    reason = 'the batch has 0 rows';
  } else if (input.previousRows !== undefined && input.rows < input.previousRows * minKeepShare) {
    reason =
      `the batch has ${input.rows} rows, below ${formatShare(minKeepShare)} of the ` +
      `${input.previousRows} rows of current version ${input.previousVersion ?? '?'}`;
  }
  if (reason === undefined) return { verdict: 'passed', rows: input.rows, ...previous, minKeepShare };
  if (input.force) return { verdict: 'forced', rows: input.rows, ...previous, minKeepShare, reason };
  throw new MlTasksError(
    'INGEST_REFUSED',
    `refused to ingest predictions of ${input.model}: ${reason}; consumers keep the predictions they have. ` +
      'Check the input (an empty or header-only file?), or pass force: true (lower minKeepShare) if this is intended',
    { details: { rows: input.rows, ...previous, minKeepShare }, retryable: false },
  );
}

function formatShare(share: number): string {
  return `${Number((share * 100).toFixed(2))} %`;
}
