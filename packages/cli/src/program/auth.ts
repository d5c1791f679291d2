// `batuta users …` and `batuta tokens …`: who may use the web API and the model server.
import { ROLES, type Role } from '@batuta/web';
import { type Command, Option } from 'commander';
import { tokensCreate, tokensList, tokensRevoke, usersAdd, usersList, usersRemove } from '../commands/auth.js';
import { action, type ConnectionOptions, configOf, type RunState, withConnection, withJson } from './shared.js';

const roleOption = () =>
  new Option('--role <role>', 'viewer reads; operator also triggers, clears, predicts; admin also manages accounts')
    .choices(ROLES)
    .makeOptionMandatory();

/** Registers `users` and `tokens` and their verbs on the program. */
export function registerAuth(program: Command, state: RunState): void {
  const users = program
    .command('users')
    .summary('add, remove and list the users of the web UI')
    .description(
      "The users who log in to the web UI, in Redis (namespace's auth keys); passwords stored as scrypt hashes.",
    );

  withConnection(
    users
      .command('add')
      .summary('add a user, or change its role and password')
      .description(
        `Adds user NAME with ROLE (or replaces its role and password). The password is read from a file or from
stdin, never from the command line (shell history and 'ps' would show it); at least 8 characters.`,
      )
      .argument('<name>', 'the user name: 1–64 letters, digits, _ . @ -')
      .addOption(roleOption())
      .option('--password-file <path>', 'read the password from this file (one trailing newline dropped)')
      .option('--password-stdin', 'read the password from stdin (e.g. from a secret manager)'),
  )
    .addHelpText(
      'after',
      '\nExit: 0 added, 2 without a password source or with a bad name or password, 4 when Redis is unreachable.',
    )
    .action(
      action(
        state,
        async (
          name: string,
          options: ConnectionOptions & { role: Role; passwordFile?: string; passwordStdin?: boolean },
        ) =>
          usersAdd(configOf(options), name, options.role, {
            ...(options.passwordFile === undefined ? {} : { passwordFile: options.passwordFile }),
            ...(options.passwordStdin ? { passwordStdin: true } : {}),
          }),
      ),
    );

  withConnection(
    users
      .command('remove')
      .summary('remove a user (its open sessions end when they expire)')
      .description('Removes user NAME: it can no longer log in.')
      .argument('<name>', 'the user name'),
  )
    .addHelpText('after', '\nExit: 0 removed, 3 when there is no such user, 4 when Redis is unreachable.')
    .action(action(state, async (name: string, options: ConnectionOptions) => usersRemove(configOf(options), name)));

  withJson(
    withConnection(
      users
        .command('list')
        .summary('every user and its role')
        .description('Lists the users, by name: role and creation time.'),
    ),
  ).action(
    action(state, async (options: ConnectionOptions & { json?: boolean }) =>
      usersList(configOf(options), { json: options.json ?? false }),
    ),
  );

  const tokens = program
    .command('tokens')
    .summary('create, revoke and list API tokens')
    .description(
      'API tokens for scripts and services (Authorization: Bearer …), in Redis as scrypt hashes; a token is shown once.',
    );

  withConnection(
    tokens
      .command('create')
      .summary('create a token and print it (once)')
      .description(
        `Creates an API token named NAME with ROLE and prints it on stdout: this is the only time it is shown
(only its hash is stored). --model limits which models it may call on a model server ('batuta serve');
without it, an operator or admin token may call every model.`,
      )
      .argument('<name>', 'what the token is for: 1–100 letters, digits, spaces, _ . @ -')
      .addOption(roleOption())
      .option(
        '--model <model>',
        'a model this token may call for predictions (repeatable)',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
  )
    .addHelpText('after', '\nExit: 0 created, 2 on a bad name or role, 4 when Redis is unreachable.')
    .action(
      action(state, async (name: string, options: ConnectionOptions & { role: Role; model?: string[] }) =>
        tokensCreate(configOf(options), name, options.role, options.model),
      ),
    );

  withConnection(
    tokens
      .command('revoke')
      .summary('revoke a token by its id')
      .description(
        "Revokes the token with ID (see 'tokens list'). A server that verified it lately keeps accepting it for at most 30 s.",
      )
      .argument('<id>', 'the token id'),
  )
    .addHelpText('after', '\nExit: 0 revoked, 3 when there is no such token, 4 when Redis is unreachable.')
    .action(action(state, async (id: string, options: ConnectionOptions) => tokensRevoke(configOf(options), id)));

  withJson(
    withConnection(
      tokens
        .command('list')
        .summary('every token: id, name, role, models (never the secret)')
        .description('Lists the tokens, oldest first: id, name, role, the models it may call, creation time.'),
    ),
  ).action(
    action(state, async (options: ConnectionOptions & { json?: boolean }) =>
      tokensList(configOf(options), { json: options.json ?? false }),
    ),
  );
}
