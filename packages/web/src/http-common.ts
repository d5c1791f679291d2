// What every Batuta HTTP app shares (the web API and the model server): security headers, no caching of
// API answers, a body size limit, prototype-safe JSON bodies, authentication (bearer token, or a session
// cookie with its CSRF token on unsafe methods, or a configured anonymous role), and problem documents
// for every error, including the framework's own.
import { BatutaError, parseSafeJson } from '@batuta/scheduler';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { AuthStore } from './auth/auth-store.js';
import type { Principal, Role } from './auth/roles.js';
import { type FieldError, problemForError, sendProblem } from './problem.js';

export type Env = { Variables: { principal: Principal } };

export const SESSION_COOKIE = 'batuta_session';
export const CSRF_HEADER = 'x-csrf-token';
/** The body size limit when an app sets none. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface CommonOptions {
  /** The path prefix the API lives under (`/api`, `/v1`). */
  prefix: string;
  auth: AuthStore;
  /** Paths answered without credentials (the principal is an anonymous viewer). */
  publicPaths: ReadonlySet<string>;
  anonymousRole?: Role;
  maxBodyBytes?: number;
  onError?: (error: unknown) => void;
  /**
   * Whose answers these are: `browser` (the web app: pages and the API they call) gets every security
   * header a document needs; `api` (the model server: JSON for programs, never a page) gets the set
   * OWASP's REST Security Cheat Sheet asks of an API — nosniff, no framing, no referrer, HSTS, a CSP that
   * allows nothing, same-origin resources — and not the headers that only shape how a browser treats a
   * document (cross-origin opener, origin-agent cluster, DNS prefetch, download, XSS filter). Default browser.
   */
  audience?: 'browser' | 'api';
}

/** The Content-Security-Policy of the web app's pages and API answers. */
const BROWSER_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
};

export function installCommon(app: Hono<Env>, options: CommonOptions): void {
  const scope = `${options.prefix}/*`;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  app.use(
    '*',
    secureHeaders(
      options.audience === 'api'
        ? {
            contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
            referrerPolicy: 'no-referrer',
            xFrameOptions: 'DENY',
            crossOriginOpenerPolicy: false,
            originAgentCluster: false,
            xDnsPrefetchControl: false,
            xDownloadOptions: false,
            xPermittedCrossDomainPolicies: false,
            xXssProtection: false,
          }
        : { contentSecurityPolicy: BROWSER_CSP, referrerPolicy: 'no-referrer' },
    ),
  );
  // Set before the handler, so the answer is built with it; set again only when a handler changed it (setting a
  // header on a finished answer makes Hono copy the answer, body stream and all).
  app.use(scope, async (c, next) => {
    c.header('cache-control', 'no-store');
    await next();
    if (c.res.headers.get('cache-control') !== 'no-store') c.header('cache-control', 'no-store');
  });
  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => sendProblem(c, 'invalid-request', `the body is larger than ${maxBodyBytes} bytes`),
  });
  // A declared length is checked from the header, as Hono's bodyLimit does, but without building the web
  // Request (and its body stream) that bodyLimit asks for first; a body without one is counted by bodyLimit.
  app.use(scope, (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(declared, 10) > maxBodyBytes
        ? Promise.resolve(sendProblem(c, 'invalid-request', `the body is larger than ${maxBodyBytes} bytes`))
        : next();
    }
    return limitBody(c, next);
  });

  // JSON bodies are parsed prototype-safe and bounded before any schema sees them: a `__proto__` key must
  // be refused here, because building the validated object would turn it into a prototype change.
  app.use(scope, async (c, next) => {
    if (!UNSAFE_METHODS.has(c.req.method) || !(c.req.header('content-type') ?? '').includes('json')) return next();
    const text = await c.req.text();
    if (text.trim() === '') return next();
    try {
      parseSafeJson(text, 'body');
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const field = error instanceof BatutaError && typeof error.field === 'string' ? error.field : 'body';
      return sendProblem(c, 'invalid-request', detail, [{ field, message: detail }]);
    }
    return next();
  });

  app.use(scope, async (c, next) => {
    if (options.publicPaths.has(c.req.path)) {
      c.set('principal', { kind: 'anonymous', name: 'anonymous', role: 'viewer' });
      return next();
    }
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const token = /^Bearer (.+)$/i.exec(header)?.[1];
      const principal = token ? await options.auth.verifyToken(token) : undefined;
      if (!principal) {
        c.header('www-authenticate', 'Bearer');
        return sendProblem(c, 'unauthenticated', 'the bearer token is malformed, unknown or revoked');
      }
      c.set('principal', principal);
      return next();
    }
    const sessionId = getCookie(c, SESSION_COOKIE);
    if (sessionId !== undefined) {
      const session = await options.auth.session(sessionId);
      if (!session) return sendProblem(c, 'unauthenticated', 'the session has ended; log in again');
      if (UNSAFE_METHODS.has(c.req.method) && c.req.header(CSRF_HEADER) !== session.csrf) {
        return sendProblem(
          c,
          'forbidden',
          `a session's ${c.req.method} needs its CSRF token in the ${CSRF_HEADER} header`,
        );
      }
      c.set('principal', { kind: 'user', name: session.user, role: session.role });
      return next();
    }
    if (options.anonymousRole) {
      c.set('principal', { kind: 'anonymous', name: 'anonymous', role: options.anonymousRole });
      return next();
    }
    c.header('www-authenticate', 'Bearer');
    return sendProblem(c, 'unauthenticated', 'send a bearer token (batuta tokens create) or log in');
  });

  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      const status = error.status;
      const kind =
        status === 404
          ? 'not-found'
          : status === 401
            ? 'unauthenticated'
            : status === 403
              ? 'forbidden'
              : 'invalid-request';
      return sendProblem(c, kind, error.message || 'the request could not be read (is the body valid JSON?)');
    }
    const mapped = problemForError(error);
    if (mapped.kind === 'internal') options.onError?.(error);
    return sendProblem(c, mapped.kind, mapped.detail, mapped.errors);
  });
  app.notFound((c) => sendProblem(c, 'not-found', `no route ${c.req.method} ${c.req.path}`));
}

/** zod issues as the fields at fault, prefixed with where they were (`body`, `query`, `param`, or a path). */
export function fieldErrors(
  target: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldError[] {
  return issues.map((issue) => ({
    field: [target, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** The `defaultHook` of every OpenAPIHono app here: a request the route's schemas refuse is a 400 problem. */
export function validationHook(
  result: { success: boolean; error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } },
  c: Context,
): Response | undefined {
  if (result.success || !result.error) return undefined;
  const target = (result as { target?: string }).target ?? 'request';
  return sendProblem(
    c,
    'invalid-request',
    'the request does not match the API',
    fieldErrors(target, result.error.issues),
  );
}
