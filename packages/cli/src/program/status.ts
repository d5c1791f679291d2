// `batuta status`: the namespace at a glance.
import type { Command } from 'commander';
import { statusCommand } from '../commands/status.js';
import {
  action,
  type ConnectionOptions,
  configOf,
  operatorsOf,
  type RunState,
  withConnection,
  withJson,
  withPlugins,
} from './shared.js';

/** Registers `status` on the program. */
export function registerStatus(program: Command, state: RunState): void {
  withJson(
    withConnection(
      withPlugins(
        program
          .command('status')
          .summary('schedulers, DAGs (next fire, paused), runs in flight, workers')
          .description(
            'Schedulers, DAGs of the folder (schedule, next fire, paused), runs in flight and workers per pool.',
          )
          .option('--pools <file>', 'the pools file whose pools to report (BATUTA_POOLS)'),
      ),
    ),
  )
    .addHelpText('after', '\nExit: 4 when Redis is unreachable.')
    .action(
      action(state, async (options: ConnectionOptions & { plugin?: string[]; pools?: string; json?: boolean }) =>
        statusCommand(configOf(options), await operatorsOf(options), { json: options.json ?? false }),
      ),
    );
}
