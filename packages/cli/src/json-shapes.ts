// The JSON every `--json` query prints: one zod schema per command, the single source of its shape
// (docs/cli.md documents them; the golden tests check every output against them). A field is added,
// never renamed or removed, within a major version. Times are ISO-8601 UTC strings, durations whole ms.
import { z } from 'zod';

const isoTime = z.string().describe('an ISO-8601 UTC time');
const durationMs = z.number().int().nonnegative().describe('end − start, whole milliseconds, never negative');

/** `dags validate --json`. */
export const dagsValidateJson = z.object({
  valid: z.number().int().nonnegative(),
  invalid: z.number().int().nonnegative(),
  files: z.array(
    z.object({
      file: z.string(),
      ok: z.boolean(),
      dagId: z.string().nullable().describe('the DAG id, when the file loaded that far'),
      tasks: z.number().int().nonnegative().nullable(),
      issues: z.array(
        z.object({
          code: z.string().describe('a stable code, e.g. DAG_CYCLE, UNKNOWN_UPSTREAM'),
          field: z.string().nullable(),
          message: z.string(),
          line: z.number().int().nullable(),
          column: z.number().int().nullable(),
        }),
      ),
    }),
  ),
});

/** `dags list --json`. */
export const dagsListJson = z.object({
  dags: z.array(
    z.object({ dagId: z.string(), schedule: z.string(), tasks: z.number().int(), file: z.string().nullable() }),
  ),
  errors: z.array(z.object({ file: z.string(), message: z.string() })),
});

const runJson = z.object({
  runId: z.string(),
  dagId: z.string(),
  kind: z.string().describe('scheduled, manual, backfill, event, dataset'),
  state: z.enum(['queued', 'running', 'success', 'failed']),
  logicalDate: isoTime,
  start: isoTime.nullable(),
  end: isoTime.nullable(),
  durationMs: durationMs.nullable().describe('null until the run has both a start and an end'),
  reason: z.string().nullable(),
});

/** `runs list --json`: newest first. */
export const runsListJson = z.object({ runs: z.array(runJson) });

/** `runs show --json`. */
export const runsShowJson = z.object({
  run: runJson,
  tasks: z.array(
    z.object({
      taskId: z.string(),
      mapIndex: z.number().int().describe('-1 for an unmapped task'),
      state: z.string(),
      tryNumber: z.number().int(),
      start: isoTime.nullable(),
      end: isoTime.nullable(),
      durationMs: durationMs.nullable(),
      worker: z.string().nullable(),
      detail: z.string().nullable().describe("the error's message, else the state's reason"),
    }),
  ),
});

/** `tasks tries --json`. */
export const tasksTriesJson = z.object({
  runId: z.string(),
  taskId: z.string(),
  mapIndex: z.number().int().describe('-1 for an unmapped task'),
  state: z.string().nullable().describe("the instance's state now"),
  tries: z
    .array(
      z.object({
        tryNumber: z.number().int(),
        state: z.string().describe('how the try ended, or stands (the current try)'),
        start: isoTime.nullable(),
        end: isoTime.nullable(),
        durationMs: durationMs.nullable(),
        worker: z.string().nullable(),
        error: z
          .object({ code: z.string().nullable(), message: z.string() })
          .nullable()
          .describe("cut to 500 characters; the full text is in the try's log"),
        reason: z.string().nullable(),
      }),
    )
    .describe('oldest first: the kept history (the newest 100 ended tries) and the current try'),
});

/** `status --json`. */
export const statusJson = z.object({
  namespace: z.string(),
  redis: z.string().describe('the Redis URL, password masked'),
  schedulers: z.array(z.string()).describe('ids of the schedulers holding a live lease'),
  dagFolder: z.string(),
  dags: z.array(
    z.object({ dagId: z.string(), schedule: z.string(), nextFire: isoTime.nullable(), paused: z.boolean() }),
  ),
  brokenFiles: z.array(z.object({ file: z.string(), message: z.string() })),
  runsInFlight: z.array(z.object({ runId: z.string(), dagId: z.string(), state: z.enum(['queued', 'running']) })),
  pools: z
    .array(
      z.object({
        pool: z.string(),
        workers: z.number().int(),
        waiting: z.number().int(),
        active: z.number().int(),
        delayed: z.number().int(),
        desiredWorkers: z.number().int().nullable(),
        minWorkers: z.number().int(),
        maxWorkers: z.number().int(),
      }),
    )
    .nullable()
    .describe('null with the local executor'),
});

/** `predictions get --json`: `found: false` (exit 1) when no row matches. */
export const predictionsGetJson = z.object({
  model: z.string(),
  namespace: z.string(),
  found: z.boolean(),
  value: z.string().nullable(),
  status: z.string().nullable(),
  key: z.string().nullable(),
  version: z.string().nullable(),
});

/** `users list --json`: never a password hash. */
export const usersListJson = z.object({
  users: z.array(
    z.object({ name: z.string(), role: z.enum(['viewer', 'operator', 'admin']), created: isoTime.nullable() }),
  ),
});

/** `tokens list --json`: never a token's hash or secret. */
export const tokensListJson = z.object({
  tokens: z.array(
    z.object({
      id: z.string().describe('what `tokens revoke` takes'),
      name: z.string(),
      role: z.enum(['viewer', 'operator', 'admin']),
      models: z
        .array(z.string())
        .nullable()
        .describe('the models it may call for predictions; null: as its role allows'),
      created: isoTime.nullable(),
    }),
  ),
});

const finiteOrNull = z.number().nullable().describe('null when not defined (no data yet)');
const differenceJson = z
  .object({
    estimate: finiteOrNull,
    lower: finiteOrNull,
    upper: finiteOrNull,
    confidence: z.number(),
    significant: z.boolean(),
  })
  .describe('candidate − baseline, with its interval');

/** `rollout status --json`: the stored rollout and its report (figures, sample-ratio check, intervals). */
export const rolloutStatusJson = z.object({
  model: z.string(),
  namespace: z.string(),
  strategy: z.enum(['single', 'shadow', 'ab', 'canary', 'bandit']),
  status: z.enum(['running', 'promoted', 'aborted']),
  step: z.number().int().describe('the canary step in force, from 1 (1 for the other strategies)'),
  steps: z.number().int().describe('how many steps the canary has (1 for the other strategies)'),
  baseline: z.string(),
  candidates: z.array(z.string()),
  holdout: z.number(),
  split: z
    .record(z.string(), z.number())
    .describe('the share of the traffic not held out each version gets now; empty for a running bandit'),
  serving: z.string().nullable().describe('the version answering everything once promoted or aborted'),
  reason: z.string().nullable(),
  started: isoTime,
  stepStarted: isoTime,
  figures: z.array(
    z.object({
      arm: z.string().describe('a version, or ~holdout'),
      requests: z.number().int(),
      errors: z.number().int(),
      compared: z.number().int(),
      disagreements: z.number().int(),
      feedbackTrials: z.number().int(),
      feedbackCorrect: z.number().int(),
    }),
  ),
  candidateRequestsThisStep: z.number().int(),
  sampleRatio: z
    .object({
      chiSquare: finiteOrNull,
      degreesOfFreedom: z.number().int(),
      pValue: finiteOrNull,
      mismatch: z.boolean(),
      alpha: z.number(),
    })
    .nullable()
    .describe('served counts against the declared split (A/B) or the holdout share; null when neither applies'),
  accuracy: differenceJson.nullable().describe('feedback accuracy; null until both versions have feedback'),
  errorRate: differenceJson.nullable().describe('error rate; null until both versions have requests'),
  bandit: z
    .record(z.string(), z.object({ pulls: z.number(), rewards: z.number() }))
    .nullable()
    .describe("a bandit's rewards per version (pulls: rewarded answers; rewards: their sum); null otherwise"),
});

/**
 * Every --json shape by command, for the docs and the tests. A new query (e.g. `tasks logs`) adds its
 * schema above and here, takes `withJson(…)` in its program/ file and prints with `printJson`.
 */
export const JSON_SHAPES = {
  'dags validate': dagsValidateJson,
  'dags list': dagsListJson,
  'runs list': runsListJson,
  'runs show': runsShowJson,
  'tasks tries': tasksTriesJson,
  status: statusJson,
  'predictions get': predictionsGetJson,
  'users list': usersListJson,
  'tokens list': tokensListJson,
  'rollout status': rolloutStatusJson,
} as const;

/** Prints `value` as one line of JSON on stdout, after checking it against its schema (a bug is not output). */
export function printJson<S extends z.ZodType>(schema: S, value: z.input<S>): void {
  console.log(JSON.stringify(schema.parse(value)));
}

/** An ISO time, or null. */
export function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** end − start in whole ms, or null when either is missing; never negative (clocks of machines may differ). */
export function durationOrNull(startMs: number | undefined, endMs: number | undefined): number | null {
  return startMs === undefined || endMs === undefined ? null : Math.max(0, Math.round(endMs - startMs));
}
