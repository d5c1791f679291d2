// `batuta db clean`: remove old ended runs.
import type { Command } from 'commander';
import { dbClean } from '../commands/db-clean.js';
import { action, type ConnectionOptions, configOf, type RunState, withConnection } from './shared.js';

/** Registers `db` and its verbs on the program. */
export function registerDb(program: Command, state: RunState): void {
  const db = program.command('db').summary("maintain the store's history").description("Maintain the store's history.");

  withConnection(
    db
      .command('clean')
      .summary('remove ended runs older than AGE (--dag ID, --dry-run)')
      .description(
        `Removes ended runs (success, failed) older than AGE (e.g. 30d), each with its task instances, outputs
and leases, in batches; queued and running runs are never removed. Prints each run removed and a total;
--dry-run prints what would be removed and removes nothing. The scheduler does the same in the
background when retention.runs (BATUTA_RETENTION_RUNS) is set.`,
      )
      .requiredOption('--older-than <age>', 'remove runs that ended longer ago than this, e.g. 30d')
      .option('--dag <id>', 'only the runs of this DAG')
      .option('--dry-run', 'print what would be removed; remove nothing'),
  )
    .addHelpText('after', '\nExit: 2 on a bad --older-than or DAG id, 4 when Redis is unreachable.')
    .action(
      action(state, async (options: ConnectionOptions & { olderThan: string; dag?: string; dryRun?: boolean }) =>
        dbClean(configOf(options), {
          olderThan: options.olderThan,
          ...(options.dag === undefined ? {} : { dag: options.dag }),
          dryRun: options.dryRun ?? false,
        }),
      ),
    );
}
