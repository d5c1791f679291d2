// The stable codes of DAG problems, apart from issues.ts so errors.ts can name them without a cycle.

/** Every code a DAG problem may carry; stable, so tools and tests can rely on them. */
export const DAG_ISSUE_CODES = [
  'YAML_SYNTAX',
  'YAML_ALIAS_LIMIT',
  'MULTIPLE_DOCUMENTS',
  'EMPTY_FILE',
  'NOT_A_MAP',
  'UNKNOWN_FIELD',
  'MISSING_FIELD',
  'INVALID_TYPE',
  'INVALID_VALUE',
  'INVALID_ID',
  'DUPLICATE_TASK_ID',
  'DUPLICATE_KEY',
  'DUPLICATE_DAG_ID',
  'UNKNOWN_UPSTREAM',
  'SELF_DEPENDENCY',
  'DAG_CYCLE',
  'UNKNOWN_OPERATOR',
  'INVALID_OPERATOR_ARGS',
  'BAD_CRON',
  'BAD_TIMEZONE',
  'BAD_DURATION',
  'BAD_RESOURCE',
  'BAD_TRIGGER_RULE',
  'BAD_MAP',
  // Found when the DAG is checked against the worker pools (orchestrator placement).
  'NO_POOL_FITS',
  'UNKNOWN_POOL',
  'SLOT_POOL_TOO_SMALL',
] as const;

/** One of DAG_ISSUE_CODES. */
export type DagIssueCode = (typeof DAG_ISSUE_CODES)[number];
