// `batuta users …` and `batuta tokens …`: the web API's and the model server's accounts, in Redis through
// the web package's AuthStore. A password never comes from argv (shells keep history, `ps` shows it): it
// is read from a file or stdin. A token's secret is printed once, at creation; lists never show a hash.
import { readFileSync } from 'node:fs';
import { AuthStore, type Role } from '@batuta/web';
import { NotFoundError, UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { isoOrNull, printJson, tokensListJson, usersListJson } from '../json-shapes.js';
import { withRedis } from '../redis-client.js';
import { renderTable } from '../render/table.js';

/** Where `users add` reads the password: a file, or stdin (all of it, one trailing newline dropped). */
export interface PasswordSource {
  passwordFile?: string;
  passwordStdin?: boolean;
}

/** Reads the password from its source; a usage error when none or both are given. */
export async function readPassword(source: PasswordSource, stdin: NodeJS.ReadableStream = process.stdin) {
  if (source.passwordFile !== undefined && source.passwordStdin)
    throw new UsageError('give --password-file or --password-stdin, not both');
  let text: string;
  if (source.passwordFile !== undefined) {
    try {
      text = readFileSync(source.passwordFile, 'utf8');
    } catch {
      throw new NotFoundError(`cannot read the password file ${source.passwordFile}`);
    }
  } else if (source.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    throw new UsageError('give the password with --password-file PATH or --password-stdin (never on the command line)');
  }
  return text.replace(/\r?\n$/, '');
}

/** Runs `body` with the namespace's AuthStore. */
function withAuth<T>(config: CliConfig, body: (auth: AuthStore) => Promise<T>): Promise<T> {
  return withRedis(config, (redis) => body(new AuthStore(redis, { namespace: config.namespace })));
}

/** The store's own checks (a name outside the charset, a short password) are usage errors here. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

/** `batuta users add NAME --role R (--password-file PATH | --password-stdin)`. */
export async function usersAdd(config: CliConfig, name: string, role: Role, source: PasswordSource): Promise<number> {
  const password = await readPassword(source);
  return withAuth(config, async (auth) => {
    const existed = (await auth.listUsers()).some((user) => user.name === name);
    await asUsage(() => auth.addUser(name, password, role));
    console.log(`${existed ? 'updated' : 'added'} user ${name} (${role})`);
    return 0;
  });
}

/** `batuta users remove NAME`: exit 3 when there is no such user. */
export async function usersRemove(config: CliConfig, name: string): Promise<number> {
  return withAuth(config, async (auth) => {
    if (!(await auth.removeUser(name))) throw new NotFoundError(`no user '${name}' in namespace ${config.namespace}`);
    console.log(`removed user ${name}`);
    return 0;
  });
}

/** `batuta users list [--json]`. */
export async function usersList(config: CliConfig, options: { json?: boolean } = {}): Promise<number> {
  return withAuth(config, async (auth) => {
    const users = (await auth.listUsers()).map((user) => ({
      name: user.name,
      role: user.role,
      created: isoOrNull(user.createdMs),
    }));
    if (options.json) printJson(usersListJson, { users });
    else if (users.length === 0) console.error(`no users in namespace ${config.namespace}`);
    else
      console.log(
        renderTable(
          ['NAME', 'ROLE', 'CREATED'],
          users.map((user) => [user.name, user.role, user.created ?? '-']),
        ),
      );
    return 0;
  });
}

/** `batuta tokens create NAME --role R [--model M]…`: prints the token (once) on stdout, its id on stderr. */
export async function tokensCreate(
  config: CliConfig,
  name: string,
  role: Role,
  models: readonly string[] | undefined,
): Promise<number> {
  return withAuth(config, async (auth) => {
    const { id, token } = await asUsage(() => auth.createToken(name, role, models ? { models } : {}));
    console.log(token);
    console.error(
      `(token ${id} '${name}', ${role}${models ? `, may predict: ${models.join(', ')}` : ''}; shown this once, keep it now)`,
    );
    return 0;
  });
}

/** `batuta tokens revoke ID`: exit 3 when there is no such token. */
export async function tokensRevoke(config: CliConfig, id: string): Promise<number> {
  return withAuth(config, async (auth) => {
    if (!(await auth.revokeToken(id))) throw new NotFoundError(`no token '${id}' in namespace ${config.namespace}`);
    console.log(`revoked token ${id} (servers that verified it stop accepting it within 30 s)`);
    return 0;
  });
}

/** `batuta tokens list [--json]`: ids, names, roles and models; never a hash or a secret. */
export async function tokensList(config: CliConfig, options: { json?: boolean } = {}): Promise<number> {
  return withAuth(config, async (auth) => {
    const tokens = (await auth.listTokens())
      .map((token) => ({
        id: token.id,
        name: token.name,
        role: token.role,
        models: token.models ?? null,
        created: isoOrNull(token.createdMs),
      }))
      .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
    if (options.json) printJson(tokensListJson, { tokens });
    else if (tokens.length === 0) console.error(`no tokens in namespace ${config.namespace}`);
    else
      console.log(
        renderTable(
          ['ID', 'NAME', 'ROLE', 'MODELS', 'CREATED'],
          tokens.map((token) => [
            token.id,
            token.name,
            token.role,
            token.models?.join(',') ?? '(by role)',
            token.created ?? '-',
          ]),
        ),
      );
    return 0;
  });
}
