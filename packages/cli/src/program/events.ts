// `batuta events publish`: an event for the DAGs scheduled on it.
import { type Command, Option } from 'commander';
import { eventsPublish } from '../commands/runs.js';
import { action, type ConnectionOptions, configOf, defined, type RunState, withConnection } from './shared.js';

/** Registers `events` and its verbs on the program. */
export function registerEvents(program: Command, state: RunState): void {
  const events = program.command('events').summary('publish events').description('Events that start DAG runs.');

  withConnection(
    events
      .command('publish')
      .summary('publish an event (--payload JSON); DAGs scheduled on it run')
      .description(
        `Publishes an event; every DAG scheduled on it ('schedule: { events: [NAME] }') runs once with the
payload as its conf. A payload that breaks the DAG's params is rejected and recorded as a failed run.
NAME uses letters, digits, '_', '.' and '-' (no '..'). --conf-file reads the payload from a file ('-':
stdin). Keys __proto__, constructor and prototype, more than 64 levels or 256 KiB are usage errors.`,
      )
      .argument('<name>', 'the event name')
      .addOption(new Option('--payload <json>', 'the payload, a JSON object').conflicts('confFile'))
      .option('--conf-file <path>', "the payload from a file ('-': stdin)"),
  )
    .addHelpText(
      'after',
      '\nExit: 2 on a bad name or payload, 3 when --conf-file is missing, 4 when Redis is unreachable.',
    )
    .action(
      action(state, async (name: string, options: ConnectionOptions & { payload?: string; confFile?: string }) =>
        eventsPublish(configOf(options), name, defined({ text: options.payload, file: options.confFile })),
      ),
    );
}
