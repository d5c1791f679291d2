// Users, API tokens and UI sessions in Redis (`batuta:<ns>:auth:…`). Passwords and tokens are stored as
// scrypt hashes only; a token is shown once, at creation. A token is `bt_<id>_<secret>`: the id finds its
// record without a scan, the secret is checked against the hash. A verified token is remembered in memory
// (by the SHA-256 of the presented token) so a busy client pays the KDF once, not on every request:
//  - the first requests of a new token share one verification (no herd of KDFs while the first runs);
//  - after `cacheMs` (default 30 s) the entry is checked again by reading the token's record: still there
//    with the same hash, it is trusted again (the secret was proven against that hash; no second KDF),
//    gone (revoked) or changed, it is refused. From half that time on, the check runs in the background
//    while requests go on, so a busy token never waits on it. Revocation takes effect at once in the
//    process that revokes, and within `cacheMs` in every other.
// Sessions are random ids stored hashed, with a CSRF token and a time to live.
import { hash, randomBytes } from 'node:crypto';
import { parseSafeJson } from '@batuta/scheduler';
import type { Redis } from 'ioredis';
import { hashSecret, verifySecret } from './password.js';
import { type Principal, ROLES, type Role } from './roles.js';

const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface UserRecord {
  name: string;
  role: Role;
  passwordHash: string;
  createdMs: number;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  /** Models it may call for predictions; undefined: as its role allows. */
  models?: string[];
  hash: string;
  createdMs: number;
}

export interface SessionRecord {
  user: string;
  role: Role;
  csrf: string;
  createdMs: number;
}

export interface AuthStoreOptions {
  namespace: string;
  /** How long a verified token is trusted without checking it again (default 30 s). */
  cacheMs?: number;
  /** Session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** Failed logins of one user allowed per window before logins are refused (default 10 per 15 min). */
  loginAttempts?: number;
  loginWindowMs?: number;
  /** scrypt cost (tests lower it; the default is DEFAULT_SCRYPT). */
  scryptCost?: { N: number; r: number; p: number };
  now?: () => number;
}

/** A token proven against `hash` at `checkedMs` (its record last read then). */
interface VerifiedToken {
  principal: Principal;
  id: string;
  hash: string;
  checkedMs: number;
}

const principalOf = (record: TokenRecord): Principal => ({
  kind: 'token',
  name: `${record.name}#${record.id}`,
  role: record.role,
  ...(record.models ? { models: record.models } : {}),
});

const sha256 = (text: string) => hash('sha256', text, 'hex');
/** A token: `bt_`, its 12-character id, `_`, its 43-character secret. */
const TOKEN_SHAPE = /^bt_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;

function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role))
    throw new RangeError(`role must be one of ${ROLES.join(', ')}, got '${role}'`);
  return role as Role;
}

export function checkUserName(name: string): string {
  if (!USER_NAME.test(name)) throw new RangeError(`user name '${name}' is not valid: 1–64 letters, digits, _ . @ -`);
  return name;
}

export class AuthStore {
  private readonly base: string;
  private readonly cacheMs: number;
  private readonly sessionTtlMs: number;
  private readonly loginAttempts: number;
  private readonly loginWindowMs: number;
  private readonly now: () => number;
  private readonly verified = new Map<string, VerifiedToken>();
  /** Verifications and record checks under way, by cache key: concurrent requests share them. */
  private readonly pending = new Map<string, Promise<Principal | undefined>>();
  /** Ids of the tokens revoked through this store. */
  private readonly revokedHere = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly options: AuthStoreOptions,
  ) {
    this.base = `batuta:${options.namespace}:auth`;
    this.cacheMs = options.cacheMs ?? 30_000;
    this.sessionTtlMs = options.sessionTtlMs ?? 12 * 3_600_000;
    this.loginAttempts = options.loginAttempts ?? 10;
    this.loginWindowMs = options.loginWindowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async addUser(name: string, password: string, role: Role): Promise<void> {
    checkUserName(name);
    checkRole(role);
    if (password.length < 8) throw new RangeError('a password needs at least 8 characters');
    const record: UserRecord = {
      name,
      role,
      passwordHash: await hashSecret(password, this.options.scryptCost),
      createdMs: this.now(),
    };
    await this.redis.hset(`${this.base}:users`, name, JSON.stringify(record));
  }

  async removeUser(name: string): Promise<boolean> {
    return (await this.redis.hdel(`${this.base}:users`, name)) === 1;
  }

  async listUsers(): Promise<Array<Omit<UserRecord, 'passwordHash'>>> {
    const all = await this.redis.hgetall(`${this.base}:users`);
    return Object.values(all)
      .map((text) => parseSafeJson(text, 'a user record') as UserRecord)
      .map(({ passwordHash: _hidden, ...user }) => user)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Creates a token; the returned `token` is the only time the secret is seen. */
  async createToken(
    name: string,
    role: Role,
    options: { models?: readonly string[] } = {},
  ): Promise<{ id: string; token: string }> {
    checkRole(role);
    if (!/^[\w .@-]{1,100}$/.test(name)) throw new RangeError('a token name: 1–100 letters, digits, spaces, _ . @ -');
    const id = randomBytes(9).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const record: TokenRecord = {
      id,
      name,
      role,
      ...(options.models ? { models: [...options.models] } : {}),
      hash: await hashSecret(secret, this.options.scryptCost),
      createdMs: this.now(),
    };
    await this.redis.hset(`${this.base}:tokens`, id, JSON.stringify(record));
    return { id, token: `bt_${id}_${secret}` };
  }

  async revokeToken(id: string): Promise<boolean> {
    const removed = (await this.redis.hdel(`${this.base}:tokens`, id)) === 1;
    // A verification that read the record before it was deleted must not remember the token afterwards.
    this.revokedHere.add(id);
    if (this.revokedHere.size > 10_000) this.revokedHere.delete(this.revokedHere.values().next().value as string);
    for (const [key, entry] of this.verified) if (entry.id === id) this.verified.delete(key);
    return removed;
  }

  async listTokens(): Promise<Array<Omit<TokenRecord, 'hash'>>> {
    const all = await this.redis.hgetall(`${this.base}:tokens`);
    return Object.values(all)
      .map((text) => parseSafeJson(text, 'a token record') as TokenRecord)
      .map(({ hash: _hidden, ...token }) => token);
  }

  /** The principal of a bearer token, or undefined when it is malformed, unknown, revoked or wrong. */
  async verifyToken(token: string): Promise<Principal | undefined> {
    const fresh = this.verifyTokenNow(token);
    if (fresh) return fresh;
    const match = TOKEN_SHAPE.exec(token);
    if (!match) return undefined;
    const cacheKey = sha256(token);
    // Remembered but past the cache time: its record again; never seen: the record and the KDF.
    const cached = this.verified.get(cacheKey);
    if (cached) return this.singleFlight(cacheKey, () => this.recheck(cacheKey, cached));
    return this.singleFlight(cacheKey, () => this.verifyAgainstRecord(cacheKey, match[1]!, match[2]!));
  }

  /**
   * `verifyToken`'s answer when it needs no wait: the principal of a token checked less than the cache
   * time ago (starting the same background recheck past half of it), else undefined — then call
   * `verifyToken`, which may read Redis or run the KDF. For a server's hot path, without a promise.
   */
  verifyTokenNow(token: string): Principal | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const cacheKey = sha256(token);
    const cached = this.verified.get(cacheKey);
    if (!cached) return undefined;
    const ageMs = this.now() - cached.checkedMs;
    if (ageMs >= this.cacheMs) return undefined;
    if (ageMs >= this.cacheMs / 2 && !this.pending.has(cacheKey))
      void this.singleFlight(cacheKey, () => this.recheck(cacheKey, cached)).catch(() => {});
    return cached.principal;
  }

  /** Runs `work` once per cache key at a time; callers meanwhile share its answer. */
  private singleFlight(cacheKey: string, work: () => Promise<Principal | undefined>): Promise<Principal | undefined> {
    const running = this.pending.get(cacheKey);
    if (running) return running;
    const started = work().finally(() => this.pending.delete(cacheKey));
    this.pending.set(cacheKey, started);
    return started;
  }

  /** The first sight of a token: its record, and the secret checked with the KDF. */
  private async verifyAgainstRecord(cacheKey: string, id: string, secret: string): Promise<Principal | undefined> {
    const text = await this.redis.hget(`${this.base}:tokens`, id);
    if (!text) return undefined;
    const record = parseSafeJson(text, 'a token record') as TokenRecord;
    if (!(await verifySecret(secret, record.hash)) || this.revokedHere.has(record.id)) return undefined;
    const principal = principalOf(record);
    this.remember(cacheKey, { principal, id: record.id, hash: record.hash, checkedMs: this.now() });
    return principal;
  }

  /** A remembered token again: trusted while its record is unchanged, forgotten once it is gone or changed. */
  private async recheck(cacheKey: string, entry: VerifiedToken): Promise<Principal | undefined> {
    const checkedMs = this.now();
    const text = await this.redis.hget(`${this.base}:tokens`, entry.id);
    const record = text ? (parseSafeJson(text, 'a token record') as TokenRecord) : undefined;
    if (!record || record.hash !== entry.hash || this.revokedHere.has(entry.id)) {
      this.verified.delete(cacheKey);
      return undefined;
    }
    const principal = principalOf(record);
    this.remember(cacheKey, { principal, id: record.id, hash: record.hash, checkedMs });
    return principal;
  }

  private remember(cacheKey: string, entry: VerifiedToken): void {
    this.verified.delete(cacheKey);
    this.verified.set(cacheKey, entry);
    if (this.verified.size > 10_000) this.verified.delete(this.verified.keys().next().value as string);
  }

  /**
   * Checks a password and opens a session. `limited` when this user has failed too often lately (the
   * attempt is not even checked); undefined when the name or password is wrong.
   */
  async login(
    name: string,
    password: string,
  ): Promise<{ sessionId: string; session: SessionRecord } | 'limited' | undefined> {
    const failures = `${this.base}:login-failures:${sha256(name)}`;
    const count = Number((await this.redis.get(failures)) ?? 0);
    if (count >= this.loginAttempts) return 'limited';
    const text = USER_NAME.test(name) ? await this.redis.hget(`${this.base}:users`, name) : null;
    const user = text ? (parseSafeJson(text, 'a user record') as UserRecord) : undefined;
    // A wrong name costs a hash too, so timing does not tell which names exist.
    let ok = false;
    if (user) ok = await verifySecret(password, user.passwordHash);
    else await hashSecret(password, this.options.scryptCost);
    if (!user || !ok) {
      await this.redis.multi().incr(failures).pexpire(failures, this.loginWindowMs).exec();
      return undefined;
    }
    await this.redis.del(failures);
    const sessionId = randomBytes(32).toString('base64url');
    const session: SessionRecord = {
      user: user.name,
      role: user.role,
      csrf: randomBytes(24).toString('base64url'),
      createdMs: this.now(),
    };
    await this.redis.set(`${this.base}:session:${sha256(sessionId)}`, JSON.stringify(session), 'PX', this.sessionTtlMs);
    return { sessionId, session };
  }

  async session(sessionId: string): Promise<SessionRecord | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
    const text = await this.redis.get(`${this.base}:session:${sha256(sessionId)}`);
    return text ? (parseSafeJson(text, 'a session') as SessionRecord) : undefined;
  }

  async logout(sessionId: string): Promise<void> {
    await this.redis.del(`${this.base}:session:${sha256(sessionId)}`);
  }
}
