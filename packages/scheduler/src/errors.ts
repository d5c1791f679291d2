/** Where in a source file a problem sits (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** The base class of every error @batuta/scheduler throws; `code` is stable and machine-readable. */
export class BatutaError extends Error {
  readonly code: string;
  readonly location: SourceLocation | undefined;
  readonly field: string | undefined;

  constructor(
    code: string,
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
  code: string;
  message: string;
  /** Dotted path of the field in the DAG document, e.g. `tasks.predict.upstream[1]`. */
  field: string;
  location?: SourceLocation;
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
export function formatDagIssue(issue: DagIssue): string {
  const where = issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.column}: ` : '';
  const field = issue.field ? `${issue.field}: ` : '';
  return `${where}${issue.code} ${field}${issue.message}`;
}

/** True when `error` is a BatutaError (of any Batuta package), with `code` when one is given. */
export function isBatutaError(error: unknown, code?: string): error is BatutaError {
  return error instanceof BatutaError && (code === undefined || error.code === code);
}
