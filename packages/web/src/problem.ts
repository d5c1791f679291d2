// Every error the API returns is an RFC 9457 problem document (application/problem+json): a stable
// `type`, a `title`, the HTTP `status`, a `detail` for people and, for bad input, the fields at fault.
import { BatutaError } from '@batuta/scheduler';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** One field a request got wrong: its path (`body.conf.n`, `query.limit`) and why. */
export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

/** The problem types this API returns; `type` is `https://batuta.dev/problems/<kind>`. */
export type ProblemKind =
  | 'invalid-request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'too-many-requests'
  | 'unavailable'
  | 'internal';

const TITLES: Record<ProblemKind, [number, string]> = {
  'invalid-request': [400, 'The request is not valid'],
  unauthenticated: [401, 'Authentication is required'],
  forbidden: [403, 'Not allowed'],
  'not-found': [404, 'Not found'],
  conflict: [409, 'Conflict'],
  'too-many-requests': [429, 'Too many requests'],
  unavailable: [503, 'Unavailable'],
  internal: [500, 'Internal error'],
};

/** An error a handler throws to answer with a problem document. */
export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export function problemOf(kind: ProblemKind, detail?: string, errors?: FieldError[]): Problem {
  const [status, title] = TITLES[kind];
  return {
    type: `https://batuta.dev/problems/${kind}`,
    title,
    status,
    ...(detail === undefined ? {} : { detail }),
    ...(errors === undefined ? {} : { errors }),
  };
}

/** Answers with a problem document. */
export function sendProblem(c: Context, kind: ProblemKind, detail?: string, errors?: FieldError[]): Response {
  const body = problemOf(kind, detail, errors);
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  });
}

/** Maps what a handler threw to a problem: our own errors by code; anything else is a 500 without details. */
export function problemForError(error: unknown): { kind: ProblemKind; detail: string; errors?: FieldError[] } {
  if (error instanceof ProblemError) {
    return { kind: error.kind, detail: error.detail, ...(error.errors ? { errors: error.errors } : {}) };
  }
  if (error instanceof BatutaError) {
    const code = String(error.code);
    if (code === 'DAG_NOT_FOUND' || code === 'NO_ROLLOUT' || code.endsWith('NOT_FOUND'))
      return { kind: 'not-found', detail: error.message };
    if (code.endsWith('CONFLICT')) return { kind: 'conflict', detail: error.message };
    if (code.startsWith('INVALID') || code.startsWith('JSON_') || code.includes('PARAM')) {
      return { kind: 'invalid-request', detail: error.message };
    }
  }
  return { kind: 'internal', detail: 'the server failed to answer; the error is in its log' };
}
