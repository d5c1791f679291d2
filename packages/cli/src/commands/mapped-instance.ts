// Which instance of a mapped task `batuta tasks test --map-index I` runs, and with what `item`: the task
// is expanded over its map sources' outputs (read from --from-run, or null) exactly as the engine expands
// it, so instance I sees the item it would see in that run. Pure: the outputs come in, an item comes out.
import { expandOver, type MapSpec, mapItem } from '@batuta/scheduler';
import { CliError, NotFoundError, UsageError } from '../cli-error.js';

/** The task as `tasks test` knows it. */
export interface MappedTestTask {
  id: string;
  map?: MapSpec | undefined;
}

/** What instance `mapIndex` of the task runs with; -1 (the default) for an unmapped task. */
export interface TestInstance {
  mapIndex: number;
  /** The instance's `item`; undefined for an unmapped task. */
  item: Record<string, unknown> | undefined;
  /** How many instances the task expands into; undefined for an unmapped task. */
  count: number | undefined;
}

/**
 * Resolves the instance `tasks test` runs. Airflow's `tasks test` refuses a mapped task without a map
 * index and a map index of an unmapped task (both usage errors, exit 2); an index past the expansion is
 * not found (exit 3), naming how many instances there are; a source that gives no list fails as the
 * engine fails the task (exit 1), with a hint to pass --from-run when the outputs were stubbed.
 */
export function testInstance(
  task: MappedTestTask,
  mapIndex: number | undefined,
  outputOf: (sourceTaskId: string) => unknown,
  fromRun: string | undefined,
): TestInstance {
  const spec = task.map;
  if (!spec) {
    if (mapIndex !== undefined && mapIndex !== -1) {
      throw new UsageError(`'${task.id}' is not a mapped task; run it without --map-index`);
    }
    return { mapIndex: -1, item: undefined, count: undefined };
  }
  const expansion = expandOver(task.id, spec, outputOf);
  const from = fromRun === undefined ? '' : ` in run ${fromRun}`;
  if (expansion.kind === 'fail') {
    const hint =
      fromRun === undefined && Object.values(spec.over).some((source) => 'fromTask' in source)
        ? '; its upstream outputs are null without --from-run RUN'
        : '';
    throw new CliError('CANNOT_EXPAND', `'${task.id}' cannot expand${from}: ${expansion.message}${hint}`);
  }
  const count = expansion.kind === 'expand' ? expansion.count : 0;
  const indexes = count === 0 ? 'none (it maps over an empty list, so the engine skips it)' : `0..${count - 1}`;
  if (mapIndex === undefined || mapIndex === -1) {
    throw new UsageError(
      `'${task.id}' is a mapped task: pass --map-index I to test one instance (its map indexes${from}: ${indexes})`,
    );
  }
  if (expansion.kind !== 'expand' || mapIndex >= count) {
    throw new NotFoundError(
      `'${task.id}' has no map index ${mapIndex}${from}: it expands into ${count} ${count === 1 ? 'instance' : 'instances'} (map indexes: ${indexes})`,
    );
  }
  return { mapIndex, item: mapItem(expansion.names, expansion.lists, mapIndex), count };
}
