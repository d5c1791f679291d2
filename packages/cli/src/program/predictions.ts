// `batuta predictions …`: look up, list, roll back and activate versions of a model's predictions.
import type { Command } from 'commander';
import {
  predictionsActivate,
  predictionsGet,
  predictionsRollback,
  predictionsVersions,
} from '../commands/predictions.js';
import { action, type ConnectionOptions, configOf, type RunState, withConnection, withJson } from './shared.js';

/** Registers `predictions` and its verbs on the program. */
export function registerPredictions(program: Command, state: RunState): void {
  const predictions = program
    .command('predictions')
    .summary("look up and manage a model's predictions")
    .description('The predictions a batch DAG ingested into Redis, as consumers read them.');

  withJson(
    withConnection(
      predictions
        .command('get')
        .summary('look a row up (features… or --id ID) as a consumer would')
        .description(
          `Looks a prediction up exactly as a consumer would (same key scheme as the ingest, the current version),
in the namespace of --namespace / BATUTA_NAMESPACE. Features are numbers; Python's nan, inf and -inf
are accepted (put '--' before the features when the first is negative).`,
        )
        .argument('<model>', 'the model')
        .argument('[features...]', 'the row, one number per feature')
        .option('--id <id>', 'look up by entity id instead of features'),
    ),
  )
    .addHelpText('after', '\nExit: 0 found, 1 missing, 2 on a bad feature, 4 when Redis is unreachable.')
    .action(
      action(
        state,
        async (model: string, features: string[], options: ConnectionOptions & { id?: string; json?: boolean }) =>
          predictionsGet(configOf(options), model, features, options.id, { json: options.json ?? false }),
      ),
    );

  withConnection(
    predictions
      .command('rollback')
      .summary("point the model's predictions back to the previous version not marked bad")
      .description(
        `Points MODEL's current predictions back to the newest earlier complete version that is not marked bad,
and marks the version it leaves bad (so a later rollback never lands on it). Prints what it lands on.`,
      )
      .argument('<model>', 'the model'),
  ).action(
    action(state, async (model: string, options: ConnectionOptions) => predictionsRollback(configOf(options), model)),
  );

  withConnection(
    predictions
      .command('activate')
      .summary('serve a given complete version (--force for one marked bad)')
      .description(
        `Points MODEL's current predictions at a complete VERSION (see 'predictions versions'). A version marked
bad is refused unless --force, which also clears its mark.`,
      )
      .argument('<model>', 'the model')
      .argument('<version>', 'the version to serve')
      .option('--force', 'serve a version marked bad, and clear its mark'),
  ).action(
    action(state, async (model: string, version: string, options: ConnectionOptions & { force?: boolean }) =>
      predictionsActivate(configOf(options), model, version, options.force ?? false),
    ),
  );

  withConnection(
    predictions
      .command('versions')
      .summary('every version: rows, safety-gate verdict, bad marks, which is current')
      .description(
        `Lists MODEL's versions, oldest first: current (*), status, rows, commit time, the ingest safety gate's
verdict (passed, or FORCED and why) and bad marks.`,
      )
      .argument('<model>', 'the model'),
  )
    .addHelpText('after', '\nExit: 1 when the model has no versions, 4 when Redis is unreachable.')
    .action(
      action(state, async (model: string, options: ConnectionOptions) => predictionsVersions(configOf(options), model)),
    );
}
