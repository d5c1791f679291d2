// What every command group shares: the connection options (one help group), --plugin, --json, value
// parsers that turn a bad value into a usage error (exit 2), and `action`, which records a command's
// exit code for `main`.

import type { OperatorRegistry } from '@batuta/scheduler';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CliConfig, loadConfig } from '../config.js';
import { loadOperators } from '../operators.js';

/** The options of the connection group, as commander hands them over. */
export interface ConnectionOptions {
  redis?: string;
  namespace?: string;
  dags?: string;
  config?: string;
}

/** Where a command's exit code goes; `main` returns it. */
export interface RunState {
  exitCode: number;
  /** The command being run, e.g. 'dags trigger' (set before its action): error messages name it. */
  command?: string;
}

const CONNECTION_HEADING = 'Connection (flags > environment > batuta.config.json|yaml > defaults):';

/** Adds --redis, --namespace, --dags and --config, under their own heading in the help. */
export function withConnection(command: Command): Command {
  return command
    .addOption(
      new Option('--redis <url>', 'Redis (BATUTA_REDIS_URL, default redis://127.0.0.1:6379)').helpGroup(
        CONNECTION_HEADING,
      ),
    )
    .addOption(
      new Option('--namespace <ns>', "key namespace batuta:<ns>:… (BATUTA_NAMESPACE, default 'default')").helpGroup(
        CONNECTION_HEADING,
      ),
    )
    .addOption(new Option('--dags <dir>', 'the DAG folder (BATUTA_DAGS, default ./dags)').helpGroup(CONNECTION_HEADING))
    .addOption(
      new Option('--config <file>', 'a config file with redisUrl, namespace, dags, pools, executor').helpGroup(
        CONNECTION_HEADING,
      ),
    );
}

/** Adds the repeatable --plugin FILE. */
export function withPlugins(command: Command): Command {
  return command.option(
    '--plugin <file>',
    'a module exporting register(registry) that adds operators (repeatable)',
    (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
  );
}

/** Adds --json: print one JSON document of the command's documented shape (src/json-shapes.ts). */
export function withJson(command: Command): Command {
  return command.option('--json', 'print one JSON document (its shape is in docs/cli.md) instead of text');
}

/** The configuration from flags > environment > config file > defaults. */
export function configOf(
  options: ConnectionOptions & { pools?: string; executor?: string; 'paused-on-creation'?: string | undefined },
): CliConfig {
  return loadConfig(options);
}

/** The operator registry with the --plugin modules loaded. */
export function operatorsOf(options: { plugin?: string[] }): Promise<OperatorRegistry> {
  return loadOperators(options.plugin ?? []);
}

/**
 * A commander action that runs `body` and records the exit code it returns. Commander passes the
 * arguments, then the options, then the command; `body` gets them as they come.
 */
export function action<Args extends unknown[]>(
  state: RunState,
  body: (...args: Args) => Promise<number>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    state.exitCode = await body(...args);
  };
}

/** A parser for a whole number ≥ 1 (commander turns the error into "option … is invalid", exit 2). */
export function positiveInteger(value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1)
    throw new InvalidArgumentError('a whole number ≥ 1 is expected.');
  return Number(value);
}

/** A parser that accepts only the given words, comma-separated. */
export function commaList(allowed: readonly string[]): (value: string) => string {
  return (value) => {
    for (const word of value.split(',')) {
      if (!allowed.includes(word))
        throw new InvalidArgumentError(`'${word}' is not one of ${allowed.join(', ')} (comma-separated).`);
    }
    return value;
  };
}

/** Only the keys whose value is defined, for `exactOptionalPropertyTypes` option bags. */
export function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
