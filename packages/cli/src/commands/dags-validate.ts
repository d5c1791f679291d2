import { stat } from 'node:fs/promises';
import {
  type DagIssue,
  type DagSpec,
  DagValidationError,
  formatDagIssue,
  loadDagDirectory,
  loadDagsFromFile,
  type OperatorRegistry,
  validateDag,
} from '@batuta/scheduler';

/** `batuta dags validate PATH…`: checks files and folders; exit 1 when any file is invalid. */
export async function dagsValidate(
  paths: string[],
  operators: OperatorRegistry,
  check?: (dag: DagSpec) => DagIssue[],
): Promise<number> {
  let bad = 0;
  let good = 0;
  const report = (file: string, error: unknown) => {
    bad++;
    if (error instanceof DagValidationError) {
      for (const issue of error.issues)
        console.error(issue.location ? formatDagIssue(issue) : `${file}: ${formatDagIssue(issue)}`);
    } else console.error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  };
  const accept = (file: string, dag: DagSpec) => {
    const issues = [...validateDag(dag, { operators }), ...(check?.(dag) ?? [])];
    if (issues.length > 0) return report(file, new DagValidationError(issues));
    good++;
    console.log(`ok  ${file}: ${dag.id} (${dag.tasks.length} tasks)`);
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
  console.log(`${good} valid, ${bad} invalid`);
  return bad > 0 ? 1 : 0;
}
