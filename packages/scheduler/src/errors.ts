import type { DagIssueCode } from './dag/issue-codes.js';

/** Where in a source file a problem sits (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * Every code an error of @batuta/scheduler carries: a closed set, so a caller can switch on it and a
 * new code is a visible change. DAG problems carry their DagIssueCode.
 */
export type SchedulerErrorCode =
  | DagIssueCode
  | 'DAG_INVALID'
  | 'BACKFILL_BAD_RANGE'
  | 'BACKFILL_NO_SCHEDULE'
  | 'BACKFILL_TOO_LARGE'
  | 'BAD_LOGICAL_DATE'
  | 'BAD_PARAMS'
  | 'ENGINE_BAD_EVENT'
  | 'ENGINE_BAD_SNAPSHOT'
  | 'ENGINE_RESTORE_MISSING_OUTPUT'
  | 'FILE_NOT_FOUND'
  | 'JSON_FORBIDDEN_KEY'
  | 'JSON_INVALID'
  | 'JSON_NUMBER_RANGE'
  | 'JSON_TOO_DEEP'
  | 'JSON_TOO_LARGE'
  | 'LOG_BAD_CURSOR'
  | 'LOG_BAD_READ'
  | 'LUA_INCLUDE'
  | 'MODULE_EXPORT'
  | 'MODULE_FORMAT'
  | 'REDIS_SERVER_FAILED'
  | 'MODULE_TS'
  | 'NO_DAG_EXPORTED'
  | 'REDIS_TLS_FILE'
  | 'OPERATOR_EXISTS'
  | 'RUN_EXISTS'
  | 'SHELL_EXIT'
  | 'STORE_BAD_EVENT_ID'
  | 'STORE_BAD_LEASE'
  | 'STORE_BAD_NAMESPACE'
  | 'STORE_BAD_OPTIONS'
  | 'STORE_BAD_WRITE'
  | 'STORE_CLOSED'
  | 'STORE_CONFLICT'
  | 'STORE_NOT_SERIALIZABLE'
  | 'STORE_REDIS_ERROR'
  | 'STORE_UNAVAILABLE'
  | 'UNKNOWN_DAG'
  | 'UNKNOWN_MAP_INDEX'
  | 'UNKNOWN_RUN'
  | 'UNKNOWN_TASK'
  | 'UNSUPPORTED_FILE';

/**
 * The base class of every error Batuta throws, in every package; `code` is stable and machine-readable.
 * Each package narrows `Code` to its own closed union (`OrchestratorError extends
 * BatutaError<OrchestratorErrorCode>`); `new BatutaError(code, …)` takes only a SchedulerErrorCode.
 * Test for one with `isBatutaError(error, code)`, never by the object's shape.
 */
export class BatutaError<Code extends string = SchedulerErrorCode> extends Error {
  readonly code: Code;
  readonly location: SourceLocation | undefined;
  readonly field: string | undefined;

  constructor(
    code: NoInfer<Code>,
    message: string,
    options: { location?: SourceLocation; field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatutaError';
    this.code = code;
    this.location = options.location;
    this.field = options.field;
  }
}

/** One problem found while loading or validating a DAG definition. */
export interface DagIssue {
  code: DagIssueCode;
  message: string;
  /** Dotted path of the field in the DAG document, e.g. `tasks.predict.upstream[1]`. */
  field: string;
  location?: SourceLocation;
  /**
   * A second position, after `location`: where the YAML parser gave up on a quote, `[` or `{` that
   * `location` shows opening and that is never closed (the message names it too).
   */
  endLocation?: SourceLocation;
}

/** A DAG definition failed validation; `issues` lists every problem found, each with file:line:column. */
export class DagValidationError extends BatutaError {
  readonly issues: DagIssue[];

  constructor(issues: DagIssue[]) {
    const first = issues[0];
    super(first?.code ?? 'DAG_INVALID', issues.map(formatDagIssue).join('\n'), {
      ...(first?.location ? { location: first.location } : {}),
      ...(first ? { field: first.field } : {}),
    });
    this.name = 'DagValidationError';
    this.issues = issues;
  }
}

/** Formats an issue as `file:line:col: CODE field: message`, the shape editors and terminals link. */
export function formatDagIssue(issue: {
  code: string;
  message: string;
  field: string;
  location?: SourceLocation;
}): string {
  const where = issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.column}: ` : '';
  const field = issue.field ? `${issue.field}: ` : '';
  return `${where}${issue.code} ${field}${issue.message}`;
}

/** True when `error` is a BatutaError (of any Batuta package), with `code` when one is given. */
export function isBatutaError(error: unknown, code?: string): error is BatutaError<string> {
  return error instanceof BatutaError && (code === undefined || error.code === code);
}
