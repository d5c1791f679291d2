import { stat } from 'node:fs/promises';
import {
  type DagIssue,
  type DagSpec,
  DagValidationError,
  formatDagIssue,
  isBatutaError,
  loadDagDirectory,
  loadDagsFromFile,
  type OperatorRegistry,
  validateDag,
} from '@batuta/scheduler';
import type { z } from 'zod';
import { dagsValidateJson, printJson } from '../json-shapes.js';

/** `batuta dags validate PATH… [--json]`: checks files and folders; exit 1 when any file is invalid. */
export async function dagsValidate(
  paths: string[],
  operators: OperatorRegistry,
  check?: (dag: DagSpec) => DagIssue[],
  output: { json?: boolean } = {},
): Promise<number> {
  let bad = 0;
  let good = 0;
  // With --json the same verdicts are collected, then printed as one document (src/json-shapes.ts).
  const files: z.input<typeof dagsValidateJson>['files'] = [];
  const report = (file: string, error: unknown, dag?: DagSpec) => {
    bad++;
    if (output.json) {
      files.push({
        file,
        ok: false,
        dagId: dag?.id ?? null,
        tasks: dag?.tasks.length ?? null,
        issues: issuesOf(error),
      });
    } else if (error instanceof DagValidationError) {
      for (const issue of error.issues)
        console.error(issue.location ? formatDagIssue(issue) : `${file}: ${formatDagIssue(issue)}`);
    } else console.error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  };
  const accept = (file: string, dag: DagSpec) => {
    const issues = [...validateDag(dag, { operators }), ...(check?.(dag) ?? [])];
    if (issues.length > 0) return report(file, new DagValidationError(issues), dag);
    good++;
    if (output.json) files.push({ file, ok: true, dagId: dag.id, tasks: dag.tasks.length, issues: [] });
    else console.log(`ok  ${file}: ${dag.id} (${dag.tasks.length} tasks)`);
  };
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      // The scheduler's own folder scan: what passes here is exactly what a scheduler would load.
      const result = await loadDagDirectory(path, { operators, ...(check ? { check } : {}) });
      for (const dag of result.dags) accept(dag.sourceFile ?? path, dag);
      for (const failure of result.errors) report(failure.file, failure.error);
      continue;
    }
    try {
      for (const dag of await loadDagsFromFile(path, { operators })) accept(path, dag);
    } catch (error) {
      report(path, error);
    }
  }
  if (output.json) printJson(dagsValidateJson, { valid: good, invalid: bad, files });
  else console.log(`${good} valid, ${bad} invalid`);
  return bad > 0 ? 1 : 0;
}

/** The issues of a failed load or check, as the JSON of `dags validate --json`. */
function issuesOf(error: unknown): z.input<typeof dagsValidateJson>['files'][number]['issues'] {
  if (error instanceof DagValidationError)
    return error.issues.map((issue) => ({
      code: issue.code,
      field: issue.field || null,
      message: issue.message,
      line: issue.location?.line ?? null,
      column: issue.location?.column ?? null,
    }));
  const code = isBatutaError(error) ? error.code : 'LOAD_FAILED';
  return [
    { code, field: null, message: error instanceof Error ? error.message : String(error), line: null, column: null },
  ];
}
