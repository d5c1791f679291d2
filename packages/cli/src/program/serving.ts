// The HTTP servers and the model rollouts: `batuta webserver`, `batuta serve`, `batuta rollout …`.
import { parseDuration } from '@batuta/scheduler';
import { ROLES, type Role } from '@batuta/web';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { rolloutAbort, rolloutAdvance, rolloutPromote, rolloutStart, rolloutStatus } from '../commands/rollout.js';
import { serveCommand } from '../commands/serve.js';
import { webserverCommand } from '../commands/webserver.js';
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

/** A TCP port, 0 for any free one. */
function port(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65_535)
    throw new InvalidArgumentError('a port number from 0 to 65535 is expected.');
  return Number(value);
}

/** A duration such as 30s or 5m, in ms (at least one second). */
function duration(value: string): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  if (ms < 1_000) throw new InvalidArgumentError('at least 1s.');
  return ms;
}

const DAEMON_EXIT =
  '\nExit: 0 after a clean stop (SIGTERM or SIGINT), 1 when the stop ran out of time or a file is invalid, 2 on a usage error, 3 when a file is missing, 4 when Redis is unreachable.';

interface ServerOptions extends ConnectionOptions {
  port: number;
  host: string;
  shutdownTimeout?: number;
}

/** Registers `webserver`, `serve` and `rollout` on the program. */
export function registerServing(program: Command, state: RunState): void {
  withConnection(
    withPlugins(
      program
        .command('webserver')
        .summary('the REST API and web UI over the store, with users and tokens')
        .description(
          `The REST API (OpenAPI at /api/openapi.json) over the Redis store, with the accounts of 'batuta users'
and 'batuta tokens'. Reads the DAG folder as the scheduler does and rescans it every 5 s. No anonymous
access unless --anonymous-role. One JSON line per event on stdout (webserver_started names the URL).
SIGTERM or SIGINT stops it cleanly.`,
        )
        .option('--port <port>', 'the TCP port (0: any free port)', port, 8080)
        .option('--host <host>', 'the address to listen on', '127.0.0.1')
        .addOption(
          new Option('--anonymous-role <role>', 'let requests without credentials in with this role').choices(ROLES),
        )
        .option('--insecure-cookies', 'session cookies without Secure, for plain HTTP during development')
        .option('--shutdown-timeout <duration>', 'longest stop after SIGTERM (default 10s)', duration),
    ),
  )
    .addHelpText('after', DAEMON_EXIT)
    .action(
      action(
        state,
        async (options: ServerOptions & { plugin?: string[]; anonymousRole?: Role; insecureCookies?: boolean }) =>
          webserverCommand(configOf(options), await operatorsOf(options), {
            port: options.port,
            host: options.host,
            ...(options.anonymousRole ? { anonymousRole: options.anonymousRole } : {}),
            insecureCookies: options.insecureCookies ?? false,
            ...(options.shutdownTimeout === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeout }),
          }),
      ),
    );

  withConnection(
    program
      .command('serve')
      .summary('online predictions of models, routed by their rollouts, behind tokens')
      .description(
        `Serves MODEL… from the models file: POST /v1/models/MODEL/predict (a batch of rows, features by name),
POST /v1/models/MODEL/feedback, GET /v1/models/MODEL (versions, gate results, rollout). Every version
passes the model's validity gate at start and every --gate-every, or never answers (gate_failed is
logged; the baseline answers instead, or 503 when no version passes). Requests are routed by the
model's rollout ('batuta rollout'), sticky per request key. Needs a token ('batuta tokens create') with
the operator role or a --model permission. One JSON line per event; SIGTERM or SIGINT stops it.`,
      )
      .argument('<models...>', 'the models of the file to serve')
      .requiredOption('--models <file>', 'the models file (YAML): features, versions, default version, gate')
      .option('--port <port>', 'the TCP port (0: any free port)', port, 8081)
      .option('--host <host>', 'the address to listen on', '127.0.0.1')
      .option('--gate-every <duration>', 'how often the validity gates run again', duration, 300_000)
      .option('--shutdown-timeout <duration>', 'longest stop after SIGTERM (default 10s)', duration),
  )
    .addHelpText('after', DAEMON_EXIT.replace('a file is missing', 'a file or a model of it is missing'))
    .action(
      action(state, async (models: string[], options: ServerOptions & { models: string; gateEvery: number }) =>
        serveCommand(configOf(options), models, {
          modelsFile: options.models,
          port: options.port,
          host: options.host,
          gateEveryMs: options.gateEvery,
          ...(options.shutdownTimeout === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeout }),
        }),
      ),
    );

  const rollout = program
    .command('rollout')
    .summary("start, check, promote and abort a model's rollout")
    .description(
      "A model's rollout (single, shadow, ab, canary, bandit) in Redis: what 'batuta serve' routes by (docs/rollouts.md).",
    );
  const switchPredictions = (command: Command) =>
    command.option(
      '--switch-predictions',
      "also switch the model's current prediction set (batch lookups) to the version now serving",
    );
  const rolloutExit = (what: string) =>
    `\nExit: 0 ${what}, 2 on a usage error, 3 when the model has no rollout to act on, 4 when Redis is unreachable.`;

  withConnection(
    rollout
      .command('start')
      .summary('start a rollout declared in a YAML file')
      .description(
        `Starts MODEL's rollout from a YAML file: strategy, baseline, candidate(s), split, steps, guards, holdout
(the file's model, if given, must be MODEL). Its figures start from zero. Refused while another rollout
runs, unless --replace.`,
      )
      .argument('<model>', 'the model')
      .requiredOption('--file <spec>', 'the rollout (YAML), checked by its schema; errors name file:line:column')
      .option('--replace', 'take over a running rollout'),
  )
    .addHelpText(
      'after',
      '\nExit: 0 started, 1 when the file is invalid or a rollout runs already, 2 on a usage error, 3 when the file is missing, 4 when Redis is unreachable.',
    )
    .action(
      action(state, async (model: string, options: ConnectionOptions & { file: string; replace?: boolean }) =>
        rolloutStart(configOf(options), model, { file: options.file, replace: options.replace ?? false }),
      ),
    );

  withJson(
    withConnection(
      rollout
        .command('status')
        .summary('the rollout and its report: split, figures, sample-ratio check, intervals')
        .description(
          `Shows MODEL's rollout: strategy, status and step, the split now, requests, errors, disagreements and
feedback per version, the sample-ratio-mismatch check, and the candidate − baseline accuracy and error
rate with their confidence intervals.`,
        )
        .argument('<model>', 'the model'),
    ),
  )
    .addHelpText('after', rolloutExit('shown'))
    .action(
      action(state, async (model: string, options: ConnectionOptions & { json?: boolean }) =>
        rolloutStatus(configOf(options), model, { json: options.json ?? false }),
      ),
    );

  switchPredictions(
    withConnection(
      rollout
        .command('advance')
        .summary("a canary's guard check: hold, advance, promote or abort")
        .description(
          `Checks MODEL's running canary against its guards and steps: aborts it when a guard is confidently
broken (everything back to the baseline), advances or promotes when the step's hold time and requests
are met, else holds. Prints the decision and why. --force moves to the next step now.`,
        )
        .argument('<model>', 'the model')
        .option('--force', 'move to the next step now, whatever the hold time and guards say'),
    ),
  )
    .addHelpText('after', rolloutExit('checked (whatever the decision)'))
    .action(
      action(
        state,
        async (model: string, options: ConnectionOptions & { force?: boolean; switchPredictions?: boolean }) =>
          rolloutAdvance(configOf(options), model, {
            force: options.force ?? false,
            switchPredictions: options.switchPredictions ?? false,
          }),
      ),
    );

  switchPredictions(
    withConnection(
      rollout
        .command('promote')
        .summary('the candidate (a bandit: its best arm) serves everything')
        .description("Promotes MODEL's running rollout: its candidate (a bandit's best arm) answers every request.")
        .argument('<model>', 'the model')
        .option('--reason <text>', 'why, for the rollout log'),
    ),
  )
    .addHelpText('after', rolloutExit('promoted'))
    .action(
      action(
        state,
        async (model: string, options: ConnectionOptions & { reason?: string; switchPredictions?: boolean }) =>
          rolloutPromote(configOf(options), model, options),
      ),
    );

  switchPredictions(
    withConnection(
      rollout
        .command('abort')
        .summary('the baseline serves everything again (rolls a promoted rollout back)')
        .description(
          `Aborts MODEL's rollout: the baseline answers every request again; a promoted rollout is rolled back.
With --switch-predictions the baseline's prediction set is also made current again: after a promotion,
and for a running canary when its candidate had been made current (an ingest without activate: false);
a version made current by hand is left alone.`,
        )
        .argument('<model>', 'the model')
        .option('--reason <text>', 'why, for the rollout log'),
    ),
  )
    .addHelpText('after', rolloutExit('aborted'))
    .action(
      action(
        state,
        async (model: string, options: ConnectionOptions & { reason?: string; switchPredictions?: boolean }) =>
          rolloutAbort(configOf(options), model, options),
      ),
    );
}
