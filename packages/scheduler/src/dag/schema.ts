// The DAG file, as zod: the single source of the document's TypeScript types, of the loader's checks and of
// the JSON Schema editors use. It describes the document as written (durations as strings, `tasks` as a
// map); normalize.ts turns a parsed document into the DagSpec the engine runs.
import { z } from 'zod';
import { parseDateTime } from './date-time.js';
import { DURATION_PATTERN, durationProblem, parseDuration } from './duration.js';
import { type DagIssueCode, idProblem, nearestName, type PathIssue } from './issues.js';
import {
  DEFAULT_MAX_ACTIVE_RUNS,
  DEFAULT_MAX_ACTIVE_TASKS,
  DEFAULT_MAX_MAP_LENGTH,
  ID_PATTERN,
  TRIGGER_RULES,
} from './model.js';
import { SCHEDULE_PRESETS, scheduleInputIssues } from './schedule.js';
import { hinted } from './zod-issues.js';

/** The longest retry delay Airflow allows (max_retry_delay's global cap): 24 h. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

type Refinement = z.core.$RefinementCtx;

/** Adds a PathIssue to a zod refinement, keeping our code (and key/value placement) in the issue's params. */
function report(ctx: Refinement, issue: PathIssue, input: unknown): void {
  ctx.addIssue({
    code: 'custom',
    message: issue.message,
    path: issue.path,
    input,
    params: { code: issue.code, ...(issue.at ? { at: issue.at } : {}) },
  });
}

const problemCheck =
  (code: DagIssueCode, problem: (value: string) => string | undefined) =>
  (value: string, ctx: Refinement): void => {
    const message = problem(value);
    if (message !== undefined) report(ctx, { code, message, path: [] }, value);
  };

const ID_EXPECTED = "an id of letters, digits, '_', '.' and '-'";

const idString = (description: string, example: string) =>
  hinted(
    z
      .string()
      .regex(ID_PATTERN)
      .meta({ description, examples: [example] }),
    {
      code: 'INVALID_ID',
      expected: ID_EXPECTED,
      describe: (input) =>
        typeof input === 'string'
          ? idProblem(input)
          : typeof input === 'number'
            ? `expected an id, got number ${input}; quote it ("${input}") if that is the id`
            : undefined,
    },
  );

/** A duration string; `check` adds a field-specific limit on the parsed value. */
const duration = (description: string, check?: (ms: number) => string | undefined) =>
  hinted(
    z
      .string()
      .superRefine(
        problemCheck('BAD_DURATION', (value) => {
          const problem = durationProblem(value);
          return problem ?? check?.(parseDuration(value));
        }),
      )
      .meta({ description, pattern: DURATION_PATTERN, examples: ['30s', '10m', '4h', '1h30m'] }),
    {
      code: 'BAD_DURATION',
      expected: "a duration such as '30s', '10m', '4h' or '1h30m' (units ms, s, m, h, d)",
      describe: (input) =>
        typeof input === 'number'
          ? `expected a duration string, got number ${input}; write the unit: '${input}s' for seconds, '${input}ms' for milliseconds`
          : undefined,
    },
  );

const positive = (what: string) => (ms: number) => (ms === 0 ? `${what} must be longer than 0s` : undefined);

const dateString = (description: string) =>
  hinted(
    z
      .string()
      .superRefine(
        problemCheck('INVALID_VALUE', (value) =>
          parseDateTime(value) === undefined
            ? `${JSON.stringify(value)} is not a date; write ISO-8601 such as '2024-01-01' or '2024-01-01T06:00:00Z' (no offset means UTC)`
            : undefined,
        ),
      )
      .meta({ description, examples: ['2024-01-01', '2024-01-01T06:00:00Z', '2024-01-01T06:00:00-03:00'] }),
    { expected: "an ISO-8601 date such as '2024-01-01' or '2024-01-01T06:00:00Z'" },
  );

const amountHint = { code: 'BAD_RESOURCE', expected: 'a number ≥ 0' } as const;
const amount = (description: string) => hinted(z.number().min(0).meta({ description }), amountHint);

const MEMORY_SIZE = /^([0-9]+(?:\.[0-9]+)?)(Mi|Gi|Ti)$/;
const MEMORY_FACTORS: Record<string, number> = { Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** `512` → 512, `'512Mi'` → 512, `'2Gi'` → 2048 (MiB); undefined for anything else. */
export function parseMemoryMb(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = MEMORY_SIZE.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (MEMORY_FACTORS[match[2] ?? ''] ?? Number.NaN);
}

const memoryHint = {
  code: 'BAD_RESOURCE',
  expected: "a number of MiB ≥ 0 or a size such as '512Mi', '2Gi' or '1Ti'",
} as const;
const memory = hinted(
  z
    .union([
      hinted(z.number().min(0), memoryHint),
      hinted(
        z
          .string()
          .superRefine(
            problemCheck('BAD_RESOURCE', (value) =>
              parseMemoryMb(value) === undefined
                ? `${JSON.stringify(value)} is not a memory size; write MiB as a number (512) or a size such as '512Mi' or '2Gi'`
                : undefined,
            ),
          )
          .meta({ pattern: MEMORY_SIZE.source }),
        memoryHint,
      ),
    ])
    .meta({ description: "Memory in MiB: a number, or a size such as '512Mi', '2Gi'.", examples: [512, '2Gi'] }),
  memoryHint,
);

const BUILT_IN_RESOURCES = ['cpu', 'memoryMb', 'gpu'];

/** Resources a task needs; any key beyond cpu, memoryMb and gpu is a custom counter (e.g. `licenses: 1`). */
export const resourcesSchema = z
  .object({
    cpu: amount('CPU cores; may be fractional (0.5).').optional(),
    memoryMb: memory.optional(),
    gpu: amount('GPUs.').optional(),
  })
  .catchall(amount('A custom counter, e.g. `licenses: 1`.'))
  .superRefine((value, ctx) => {
    // `memory: 512` would silently become a custom counter no worker offers; catch the near-miss here.
    for (const key of Object.keys(value)) {
      if (BUILT_IN_RESOURCES.includes(key)) continue;
      const near = nearestName(key, BUILT_IN_RESOURCES);
      if (near !== undefined) {
        const message = `unknown resource '${key}'; did you mean '${near}'? (other names are custom counters; rename it if it really is one)`;
        report(ctx, { code: 'UNKNOWN_FIELD', message, path: [key], at: 'key' }, key);
      }
    }
  })
  .meta({
    description: 'What the task needs to run: cpu, memoryMb, gpu, and custom counters. All ≥ 0.',
    examples: [{ cpu: 1, memoryMb: 512 }],
  });

/** How failed attempts are retried. */
export const retrySchema = z
  .strictObject({
    retries: hinted(z.int().min(0).meta({ description: 'Retries after the first attempt (Airflow default 0).' }), {
      expected: 'a whole number ≥ 0',
    }).optional(),
    delay: duration('Delay before a retry (default 5m).').optional(),
    backoff: z
      .enum(['fixed', 'exponential'])
      .meta({ description: 'fixed: the same delay every time; exponential: delay · 2^(try−1).' })
      .optional(),
    maxDelay: duration('Cap on one delay; at most 24h (the default).', (ms) =>
      ms > MAX_RETRY_DELAY_MS ? 'maxDelay is at most 24h' : undefined,
    ).optional(),
    jitter: z.boolean().meta({ description: 'Spread exponential delays deterministically in [m, 2m).' }).optional(),
    nonRetryable: z
      .array(z.string().min(1))
      .meta({ description: 'Error codes or names that fail the task at once, without retrying.' })
      .optional(),
  })
  .meta({ description: 'Retry policy; unset fields come from `defaults.retry`, then Airflow-like defaults.' });

const triggerRule = hinted(
  z.enum(TRIGGER_RULES).meta({ description: 'When the task runs given its direct upstreams (default all_success).' }),
  { code: 'BAD_TRIGGER_RULE', expected: 'a trigger rule' },
);

// A YAML key `1:` is the id "1", but a list item `1` is a number: say to quote it rather than just "not a string".
const taskReference = hinted(z.string().meta({ description: 'An upstream task id.' }), {
  expected: 'a task id',
  describe: (input) =>
    typeof input === 'number'
      ? `expected a task id, got number ${input}; quote it ('${input}') if that is the id`
      : undefined,
});

/** Dynamic task mapping: one instance per element. */
export const mapSchema = z
  .strictObject({
    over: z
      .record(
        z.string(),
        hinted(
          z
            .union([
              z.string().meta({ description: 'An upstream task id whose output is a list.' }),
              z.array(z.unknown()).meta({ description: 'A literal list.' }),
            ])
            .meta({ description: 'Where the list comes from.' }),
          { expected: 'an upstream task id or a literal list' },
        ),
      )
      .superRefine((value, ctx) => {
        if (Object.keys(value).length === 0) {
          report(ctx, { code: 'BAD_MAP', message: "'over' needs at least one argument → source", path: [] }, value);
        }
      })
      .meta({ description: 'Argument name → an upstream task id or a literal list; several → cross product.' }),
    maxLength: hinted(
      z
        .int()
        .min(1)
        .meta({ description: `Expansion cap (default ${DEFAULT_MAX_MAP_LENGTH}).`, default: DEFAULT_MAX_MAP_LENGTH }),
      { code: 'BAD_MAP', expected: 'a whole number ≥ 1' },
    ).optional(),
  })
  .meta({ description: 'Fan this task out over a list produced upstream or written here.' });

/** One task, keyed by its id in `tasks`. */
export const taskSchema = z
  .strictObject({
    operator: hinted(
      z
        .string()
        .min(1)
        .meta({ description: 'Registered operator name.', examples: ['empty', 'shell', 'module'] }),
      { expected: "an operator name such as 'shell'" },
    ),
    with: z.record(z.string(), z.unknown()).meta({ description: "The operator's arguments." }).optional(),
    upstream: hinted(
      z
        .union([taskReference, z.array(taskReference)])
        .meta({ description: 'Task ids this task runs after (a list, or one id).' }),
      {
        expected: 'a task id or a list of task ids',
        describe: (input) =>
          typeof input === 'number'
            ? `expected a task id, got number ${input}; quote it ('${input}') if that is the id`
            : undefined,
      },
    ).optional(),
    triggerRule: triggerRule.optional(),
    retry: retrySchema.optional(),
    timeout: duration('Attempt timeout (Airflow execution_timeout); none by default.', positive('timeout')).optional(),
    resources: resourcesSchema.optional(),
    pool: z.string().min(1).meta({ description: 'Worker pool name; unset lets placement choose.' }).optional(),
    priorityWeight: hinted(z.int().meta({ description: 'Higher runs first (default 1).' }), {
      expected: 'a whole number',
    }).optional(),
    dependsOnPast: z
      .boolean()
      .meta({ description: 'Run only if this task succeeded or was skipped in the previous run.' })
      .optional(),
    branch: z.boolean().meta({ description: 'The output names the direct downstream ids to follow.' }).optional(),
    shortCircuit: hinted(
      z
        .union([z.boolean(), z.enum(['all', 'direct'])])
        .meta({ description: 'A falsy output skips all descendants (true, all) or only direct ones (direct).' }),
      { expected: "true, false, 'all' or 'direct'" },
    ).optional(),
    map: mapSchema.optional(),
    outlets: z
      .array(z.string().min(1))
      .meta({ description: 'Datasets this task updates when it succeeds.' })
      .optional(),
    doc: z.string().meta({ description: 'Documentation shown with the task.' }).optional(),
  })
  .meta({ description: 'A task: an operator, its arguments, its upstreams and its settings.' });

/** Settings applied to every task that does not set them itself. */
export const defaultsSchema = z
  .strictObject({
    retry: retrySchema.optional(),
    resources: resourcesSchema.optional(),
    timeout: duration('Default attempt timeout.', positive('timeout')).optional(),
    pool: z.string().min(1).meta({ description: 'Default worker pool.' }).optional(),
    priorityWeight: hinted(z.int().meta({ description: 'Default priority weight.' }), {
      expected: 'a whole number',
    }).optional(),
    triggerRule: triggerRule.optional(),
  })
  .meta({ description: 'Applied to every task unless it says otherwise (field by field for retry and resources).' });

/** One declared parameter (a JSON-Schema-like subset). */
export const paramSchema = z
  .strictObject({
    type: z.enum(['string', 'number', 'integer', 'boolean', 'array', 'object']),
    default: z.unknown().optional(),
    description: z.string().optional(),
    enum: z.array(z.unknown()).min(1).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    required: z.boolean().optional(),
  })
  .meta({ description: 'A run parameter, validated for triggers and events.' });

const scheduleMap = z
  .strictObject({
    cron: z
      .string()
      .meta({ description: 'Cron expression (5 fields) or preset.', examples: ['0 */4 * * *', '@daily'] })
      .optional(),
    timezone: z
      .string()
      .meta({ description: 'IANA time zone of the cron (default UTC).', examples: ['America/Argentina/Buenos_Aires'] })
      .optional(),
    every: duration('A fixed interval, in fixed UTC spacing.').optional(),
    events: z
      .array(idString('An event name (the charset of ids).', 'file_uploaded'))
      .meta({ description: 'Run when any of these external events is published.' })
      .optional(),
    event: idString('Run when this external event is published (the charset of ids).', 'file_uploaded').optional(),
    datasets: z
      .array(z.string())
      .meta({ description: 'Run once every listed dataset has been updated (optionally also on `cron`).' })
      .optional(),
  })
  .meta({ description: '{cron, timezone}, {every}, {events} / {event}, or {datasets[, cron, timezone]}.' });

/** When the DAG runs: a cron string or preset (UTC), a schedule map, or empty for "triggered only". */
export const scheduleSchema = hinted(
  z
    .union([
      z.string().meta({
        description: `A cron expression or preset, in UTC (${SCHEDULE_PRESETS.join(', ')}).`,
        examples: ['@daily', '0 */4 * * *', '@once'],
      }),
      z.null(),
      scheduleMap,
    ])
    // Only once the map itself is sound: `{ crn: … }` needs "did you mean 'cron'?", not "no form given" too.
    .superRefine(
      (value, ctx) => {
        for (const issue of scheduleInputIssues(value, [])) report(ctx, issue, value);
      },
      { when: (payload) => payload.issues.length === 0 },
    )
    .meta({ description: 'When the DAG runs; leave it out (or empty) for a DAG that only runs when triggered.' }),
  { expected: 'a cron string, a preset or a schedule map' },
);

const tasksMap = hinted(
  z
    .record(idString('A task id.', 'load_data'), taskSchema)
    .superRefine((value, ctx) => {
      if (Object.keys(value).length === 0) {
        report(ctx, { code: 'MISSING_FIELD', message: 'a DAG needs at least one task', path: [] }, value);
      }
    })
    .meta({ description: 'The tasks, keyed by task id, in file order.' }),
  { expected: 'a map of task id → task' },
);

const accessEntry = z
  .string()
  .regex(/^(viewer|operator|admin|user:[A-Za-z0-9_.@-]{1,64})$/, {
    message: "a role (viewer, operator, admin) or 'user:NAME'",
  })
  .meta({ examples: ['operator', 'user:ana'] });

/** Who may see and operate a DAG in the web API (absent: everyone, by role). */
export const dagAccessSchema = z
  .strictObject({
    view: z
      .array(accessEntry)
      .meta({ description: 'Roles and users (user:NAME) that may see the DAG and its runs; admins always may.' })
      .optional(),
    operate: z
      .array(accessEntry)
      .meta({
        description:
          'Roles and users that may trigger, pause, cancel, clear and mark; they also need the operator role. Admins always may.',
      })
      .optional(),
  })
  .meta({ description: 'Per-DAG access in the web API: who may see it and who may operate it.' });

/** The whole DAG file. */
export const dagDocumentSchema = z
  .strictObject({
    id: idString('The DAG id: letters, digits, _, . and -.', 'iris_batch'),
    description: z.string().meta({ description: 'What the DAG does.' }).optional(),
    tags: z.array(z.string()).meta({ description: 'Labels for listing and filtering.' }).optional(),
    owner: z.string().meta({ description: 'Who to ask about this DAG.' }).optional(),
    access: dagAccessSchema.optional(),
    schedule: scheduleSchema.optional(),
    startDate: dateString('First logical date; no offset means UTC.').optional(),
    endDate: dateString('Last logical date; no offset means UTC.').optional(),
    catchup: z
      .boolean()
      .default(false)
      .meta({ description: 'Create a run for every missed fire time (default false).' }),
    pausedOnCreation: z.boolean().optional().meta({
      description:
        "Store the DAG paused when a scheduler first sees it (overrides the scheduler's pausedOnCreation setting).",
    }),
    maxActiveRuns: hinted(
      z
        .int()
        .min(1)
        .default(DEFAULT_MAX_ACTIVE_RUNS)
        .meta({ description: `Runs of this DAG at once (default ${DEFAULT_MAX_ACTIVE_RUNS}).` }),
      { expected: 'a whole number ≥ 1' },
    ),
    maxActiveTasks: hinted(
      z
        .int()
        .min(1)
        .default(DEFAULT_MAX_ACTIVE_TASKS)
        .meta({
          description: `Running tasks of this DAG at once, over all its runs (default ${DEFAULT_MAX_ACTIVE_TASKS}).`,
        }),
      { expected: 'a whole number ≥ 1' },
    ),
    params: z
      .record(idString('A parameter name.', 'sample'), paramSchema)
      .meta({ description: 'Parameters a trigger or event may set, with defaults.' })
      .optional(),
    defaults: defaultsSchema.optional(),
    tasks: tasksMap,
  })
  .superRefine((value, ctx) => {
    const start = value.startDate === undefined ? undefined : parseDateTime(value.startDate);
    const end = value.endDate === undefined ? undefined : parseDateTime(value.endDate);
    if (start !== undefined && end !== undefined && end < start) {
      report(ctx, { code: 'INVALID_VALUE', message: 'endDate is before startDate', path: ['endDate'] }, value.endDate);
    }
  })
  .meta({ title: 'Batuta DAG file', description: 'One DAG: its schedule, defaults and tasks.' });

/** A DAG file after parsing (defaults applied to catchup, maxActiveRuns and maxActiveTasks). */
export type DagDocument = z.output<typeof dagDocumentSchema>;
/** A DAG file as written. */
export type DagDocumentInput = z.input<typeof dagDocumentSchema>;
export type TaskDocument = z.output<typeof taskSchema>;
export type RetryDocument = z.output<typeof retrySchema>;
export type ResourcesDocument = z.output<typeof resourcesSchema>;
export type MapDocument = z.output<typeof mapSchema>;
export type ParamDocument = z.output<typeof paramSchema>;
export type DefaultsDocument = z.output<typeof defaultsSchema>;
export type ScheduleDocument = z.output<typeof scheduleSchema>;
