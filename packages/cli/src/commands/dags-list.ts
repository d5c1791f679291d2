import { stat } from 'node:fs/promises';
import {
  type DagSpec,
  DagValidationError,
  formatDagIssue,
  loadDagDirectory,
  loadDagsFromFile,
  type OperatorRegistry,
  type ScheduleSpec,
} from '@batuta/scheduler';
import { dagsListJson, printJson } from '../json-shapes.js';

/** `batuta dags list PATH… [--json]`: one line per DAG found; bad files are reported on stderr. */
export async function dagsList(
  paths: string[],
  operators: OperatorRegistry,
  output: { json?: boolean } = {},
): Promise<number> {
  const dags: DagSpec[] = [];
  const errors: { file: string; message: string }[] = [];
  let bad = 0;
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      // The scheduler's own folder scan: the list is what a scheduler would load.
      const result = await loadDagDirectory(path, { operators });
      dags.push(...result.dags);
      for (const failure of result.errors) {
        bad++;
        errors.push({ file: failure.file, message: failure.error.message });
        if (output.json) continue;
        if (failure.error instanceof DagValidationError) {
          for (const issue of failure.error.issues)
            console.error(issue.location ? formatDagIssue(issue) : `${failure.file}: ${formatDagIssue(issue)}`);
        } else console.error(`${failure.file}: ${failure.error.message}`);
      }
    } else {
      try {
        dags.push(...(await loadDagsFromFile(path, { operators })));
      } catch (error) {
        bad++;
        errors.push({ file: path, message: (error as Error).message });
        if (!output.json) console.error(`${path}: ${(error as Error).message}`);
      }
    }
  }
  if (output.json) {
    printJson(dagsListJson, {
      dags: dags.map((dag) => ({
        dagId: dag.id,
        schedule: scheduleText(dag.schedule),
        tasks: dag.tasks.length,
        file: dag.sourceFile ?? null,
      })),
      errors,
    });
    return bad > 0 ? 1 : 0;
  }
  const width = Math.max(6, ...dags.map((d) => d.id.length));
  console.log(`${'dag_id'.padEnd(width)}  ${'schedule'.padEnd(28)}  tasks  file`);
  for (const dag of dags) {
    console.log(
      `${dag.id.padEnd(width)}  ${scheduleText(dag.schedule).padEnd(28)}  ${String(dag.tasks.length).padStart(5)}  ${dag.sourceFile ?? ''}`,
    );
  }
  return bad > 0 ? 1 : 0;
}

/** A schedule as one short string. */
export function scheduleText(schedule: ScheduleSpec | undefined): string {
  if (!schedule) return 'manual';
  switch (schedule.kind) {
    case 'cron':
      return schedule.timezone === 'UTC' ? schedule.cron : `${schedule.cron} (${schedule.timezone})`;
    case 'every':
      return `every ${schedule.everyMs / 1000}s`;
    case 'once':
      return '@once';
    case 'events':
      return `on events ${schedule.events.join(', ')}`;
    case 'datasets':
      return `on datasets ${schedule.datasets.join(', ')}`;
  }
}
