import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDagFile } from '../../src/dag/yaml-loader.js';
import { MIN_ALIAS_EXPANSION } from '../../src/dag/yaml-source.js';
import { DagValidationError } from '../../src/errors.js';
import { testOperators } from './operators.js';

const dir = fileURLToPath(new URL('../fixtures/malformed/', import.meta.url));

/** The first issue each malformed file must produce: code, line:column, field and a fragment of the message. */
const expected: Record<string, [code: string, line: number, column: number, field: string, message: string]> = {
  '01-empty-file.yaml': ['EMPTY_FILE', 1, 1, '', 'the file is empty'],
  '02-only-comments.yaml': ['EMPTY_FILE', 1, 1, '', 'the file is empty'],
  '03-not-a-map.yaml': ['NOT_A_MAP', 1, 1, '', 'found a list'],
  '04-syntax-error.yaml': [
    'YAML_SYNTAX',
    5,
    15,
    '',
    'this flow sequence [ is never closed; the parser gave up at line 6',
  ],
  '05-tab-indent.yaml': ['YAML_SYNTAX', 3, 1, '', 'Tabs are not allowed as indentation'],
  '06-multiple-documents.yaml': ['MULTIPLE_DOCUMENTS', 5, 1, '', 'a DAG file holds one YAML document'],
  '07-billion-laughs.yaml': ['YAML_ALIAS_LIMIT', 10, 45, '', 'aliases expand this file beyond 100000 nodes'],
  '08-unknown-anchor.yaml': ['YAML_SYNTAX', 3, 10, '', "alias '*standard_retry' refers to no anchor defined before it"],
  '09-missing-id.yaml': ['MISSING_FIELD', 2, 1, 'id', "missing required field 'id'"],
  '10-missing-tasks.yaml': ['MISSING_FIELD', 1, 1, 'tasks', "missing required field 'tasks' (a map of task id → task)"],
  '11-tasks-not-a-map.yaml': ['INVALID_TYPE', 3, 3, 'tasks', 'expected a map of task id → task, got a list'],
  '12-bad-dag-id.yaml': ['INVALID_ID', 1, 5, 'id', 'id "iris batch" contains " " at character 5'],
  '13-bad-task-id.yaml': ['INVALID_ID', 3, 3, 'tasks["load data"]', 'id "load data" contains " " at character 5'],
  '14-duplicate-task-id.yaml': [
    'DUPLICATE_TASK_ID',
    8,
    3,
    'tasks.extract',
    "task id 'extract' is defined twice (first on line 3)",
  ],
  '15-duplicate-key.yaml': [
    'DUPLICATE_KEY',
    6,
    5,
    'tasks.hello.operator',
    "key 'operator' appears twice in this map (first on line 4)",
  ],
  '16-unknown-top-field.yaml': ['UNKNOWN_FIELD', 2, 1, 'shedule', "unknown field 'shedule'; did you mean 'schedule'?"],
  '17-unknown-task-field.yaml': [
    'UNKNOWN_FIELD',
    7,
    5,
    'tasks.b.upstreams',
    "unknown field 'upstreams'; did you mean 'upstream'?",
  ],
  '18-unknown-operator.yaml': [
    'UNKNOWN_OPERATOR',
    4,
    15,
    'tasks.run.operator',
    "unknown operator 'shel'; did you mean 'shell'?",
  ],
  '19-bad-operator-args.yaml': [
    'INVALID_OPERATOR_ARGS',
    6,
    16,
    'tasks.run.with.command',
    "operator 'shell': expected a string, got number 42",
  ],
  '20-missing-operator.yaml': ['MISSING_FIELD', 5, 3, 'tasks.b.operator', "missing required field 'operator'"],
  '21-unknown-upstream.yaml': [
    'UNKNOWN_UPSTREAM',
    9,
    27,
    'tasks.predict.upstream[1]',
    "unknown upstream 'lod_model'; did you mean 'load_model'?",
  ],
  '22-self-dependency.yaml': ['SELF_DEPENDENCY', 5, 16, 'tasks.a.upstream[0]', "task 'a' lists itself as an upstream"],
  '23-cycle.yaml': ['DAG_CYCLE', 7, 23, 'tasks.a.upstream[1]', 'tasks form a cycle: a → b → c → a'],
  '24-bad-cron-value.yaml': ['BAD_CRON', 3, 9, 'schedule.cron', "'61 * * * *' is not a valid cron expression"],
  '25-bad-cron-fields.yaml': ['BAD_CRON', 2, 11, 'schedule', "'0 * * *' has 4 fields; a cron expression has 5"],
  '26-unknown-preset.yaml': ['BAD_CRON', 2, 11, 'schedule', "unknown preset '@dayly'; did you mean '@daily'?"],
  '27-bad-timezone.yaml': [
    'BAD_TIMEZONE',
    4,
    13,
    'schedule.timezone',
    "unknown time zone 'America/Buenos_Aries'; did you mean 'America/Buenos_Aires'?",
  ],
  '28-negative-resource.yaml': [
    'BAD_RESOURCE',
    5,
    23,
    'tasks.train.resources.cpu',
    'expected a number ≥ 0, got number -1',
  ],
  '29-string-resource.yaml': [
    'BAD_RESOURCE',
    7,
    12,
    'tasks.train.resources.gpu',
    'expected a number ≥ 0, got string "two"',
  ],
  '30-bad-memory-size.yaml': ['BAD_RESOURCE', 4, 15, 'defaults.resources.memoryMb', '"2GB" is not a memory size'],
  '31-bad-trigger-rule.yaml': [
    'BAD_TRIGGER_RULE',
    8,
    18,
    'tasks.b.triggerRule',
    'got string "all_sucess"; did you mean \'all_success\'?',
  ],
  '32-bad-duration-unit.yaml': ['BAD_DURATION', 5, 12, 'defaults.retry.delay', '"30x" has an unknown unit \'x\''],
  '33-number-duration.yaml': [
    'BAD_DURATION',
    5,
    14,
    'tasks.slow.timeout',
    "got number 30; write the unit: '30s' for seconds",
  ],
  '34-max-active-runs-zero.yaml': [
    'INVALID_VALUE',
    2,
    16,
    'maxActiveRuns',
    'expected a whole number ≥ 1, got number 0',
  ],
  '35-retries-wrong-type.yaml': [
    'INVALID_TYPE',
    5,
    23,
    'tasks.flaky.retry.retries',
    'expected a whole number ≥ 0, got string "two"',
  ],
  '36-retries-fraction.yaml': [
    'INVALID_TYPE',
    6,
    16,
    'tasks.flaky.retry.retries',
    'expected a whole number ≥ 0, got number 1.5',
  ],
  '37-map-over-non-upstream.yaml': [
    'BAD_MAP',
    11,
    21,
    'tasks.process.map.over.file',
    "maps 'file' over 'list_files', which is not an upstream of 'process'",
  ],
  '38-branch-and-map.yaml': ['BAD_MAP', 7, 7, 'tasks.pick.map', 'a mapped task cannot be a branch'],
  '39-schedule-two-forms.yaml': ['INVALID_VALUE', 4, 10, 'schedule.every', "found both 'cron' and 'every'"],
  '40-timezone-without-cron.yaml': [
    'INVALID_VALUE',
    4,
    13,
    'schedule.timezone',
    "'timezone' applies to a cron schedule only",
  ],
  '41-upstream-wrong-type.yaml': [
    'INVALID_TYPE',
    7,
    15,
    'tasks.b.upstream',
    'expected a task id or a list of task ids, got a map',
  ],
  '42-resource-name-typo.yaml': [
    'UNKNOWN_FIELD',
    5,
    26,
    'tasks.train.resources.memory',
    "unknown resource 'memory'; did you mean 'memoryMb'?",
  ],
  '43-max-delay-over-cap.yaml': ['BAD_DURATION', 5, 36, 'tasks.flaky.retry.maxDelay', 'maxDelay is at most 24h'],
  '44-defaults-negative-retries.yaml': [
    'INVALID_VALUE',
    4,
    14,
    'defaults.retry.retries',
    'expected a whole number ≥ 0, got number -1',
  ],
  '45-bad-start-date.yaml': ['INVALID_VALUE', 2, 12, 'startDate', '"2024-13-01" is not a date'],
  '46-end-before-start.yaml': ['INVALID_VALUE', 3, 10, 'endDate', 'endDate is before startDate'],
  '47-recursive-alias.yaml': ['YAML_ALIAS_LIMIT', 6, 23, '', "alias '*loop' sits inside its own anchor"],
  '48-empty-tasks.yaml': ['MISSING_FIELD', 2, 8, 'tasks', 'a DAG needs at least one task'],
  '49-param-default-type.yaml': [
    'INVALID_VALUE',
    3,
    36,
    'params.sample.default',
    'default "lots" is not of type number',
  ],
  '50-short-circuit-value.yaml': [
    'INVALID_VALUE',
    5,
    19,
    'tasks.check.shortCircuit',
    "expected true, false, 'all' or 'direct', got string \"sometimes\"",
  ],
  '51-with-not-a-map.yaml': ['INVALID_TYPE', 5, 11, 'tasks.run.with', 'expected a map, got string "echo hello"'],
  '52-bom-bad-id.yaml': ['INVALID_ID', 1, 5, 'id', 'id "bom id" contains " " at character 4'],
  '53-invalid-utf8.yaml': ['YAML_SYNTAX', 2, 17, '', 'the file is not valid UTF-8'],
  '54-merge-not-a-map.yaml': ['INVALID_TYPE', 4, 9, 'tasks.hello', "a merge key '<<' takes a map"],
  '55-duplicate-upstream.yaml': ['INVALID_VALUE', 7, 19, 'tasks.b.upstream[1]', "upstream 'a' is listed twice"],
  '56-every-zero.yaml': ['BAD_DURATION', 2, 20, 'schedule.every', "'every' must be longer than 0s"],
  '57-events-empty.yaml': ['INVALID_VALUE', 3, 11, 'schedule.events', 'list at least one event'],
  '58-unknown-retry-field.yaml': [
    'UNKNOWN_FIELD',
    5,
    5,
    'defaults.retry.backof',
    "unknown field 'backof'; did you mean 'backoff'?",
  ],
  '59-task-not-a-map.yaml': ['INVALID_TYPE', 3, 10, 'tasks.hello', 'expected a map, got string "empty"'],
  '60-seconds-cron.yaml': ['BAD_CRON', 2, 11, 'schedule', 'a seconds field is not supported'],
  '61-once-without-start-date.yaml': ['MISSING_FIELD', 1, 1, 'startDate', "'@once' runs once, at its startDate"],
};

async function loadError(file: string): Promise<DagValidationError> {
  try {
    await loadDagFile(`${dir}${file}`, { operators: testOperators() });
  } catch (error) {
    if (error instanceof DagValidationError) return error;
    throw error;
  }
  throw new Error(`${file} loaded without an error`);
}

describe('malformed DAG files', () => {
  it('has an expectation for every file in the corpus, and at least 35 files', () => {
    const files = readdirSync(dir).filter((name) => name.endsWith('.yaml'));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
    expect(files.length).toBeGreaterThanOrEqual(35);
  });

  it.each(Object.entries(expected))(
    '%s reports its first problem precisely',
    async (file, [code, line, column, field, message]) => {
      const error = await loadError(file);
      const first = error.issues[0];
      expect({
        code: first?.code,
        line: first?.location?.line,
        column: first?.location?.column,
        field: first?.field,
      }).toEqual({
        code,
        line,
        column,
        field,
      });
      expect(first?.location?.file).toBe(`${dir}${file}`);
      expect(first?.message).toContain(message);
      // The error itself reads as `file:line:col: CODE field: message`, the first issue first.
      expect(error.code).toBe(code);
      expect(error.message.split('\n')[0]).toBe(
        `${dir}${file}:${line}:${column}: ${code} ${field ? `${field}: ` : ''}${first?.message}`,
      );
    },
  );

  it('rejects the billion-laughs file without expanding it: the count stops at the first alias past the budget', async () => {
    // Counted, not timed: the loader counts the nodes aliases expand to and gives up at 100,000, far
    // below the file's 10^9; one issue at that alias, nothing expanded past it.
    const error = await loadError('07-billion-laughs.yaml');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ code: 'YAML_ALIAS_LIMIT', location: { line: 10, column: 45 } });
    expect(error.issues[0]?.message).toContain(`beyond ${MIN_ALIAS_EXPANSION} nodes`);
    expect(error.issues[0]?.message).toContain('expansion stops at this alias');
  });

  it('reports every problem of a file at once, ordered by position', async () => {
    const error = await loadError('14-duplicate-task-id.yaml');
    expect(error.issues.map((issue) => issue.code)).toEqual(['DUPLICATE_TASK_ID', 'INVALID_OPERATOR_ARGS']);
    const tabs = await loadError('05-tab-indent.yaml');
    expect(tabs.issues.map((issue) => issue.location?.line)).toEqual([3, 4]);
  });
});
