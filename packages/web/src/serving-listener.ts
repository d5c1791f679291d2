// The model server's Node request listener: the serving app (serving-app.ts) with a fast path in front for
// the one request that is sent thousands of times a second, a well-formed predict. The fast path takes the
// same decisions with the same code — the token through AuthStore.verifyToken and mayPredict, the model's
// ModelServer.predict — but without building the web Request, the Response and the middleware chain
// around them, and with the native JSON parse and a precompiled check of the body's exact shape instead of
// the prototype-safe parse and two zod passes (a body of that shape is one the safe parse accepts: see
// hasOnlyKnownFields). It answers only what it has fully checked; anything else (no or a bad token, a body that does
// not fit, another route, a chunked body) goes to the app unchanged, which answers it as it always did, so
// every refusal keeps its exact problem document. Its answers carry the headers the app sets on every
// answer (security headers, cache-control), read from the app itself.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { MlTasksError, type ModelServer, type Prediction } from '@batuta/ml-tasks';
import { DEFAULT_JSON_LIMITS, FORBIDDEN_JSON_KEYS } from '@batuta/scheduler';
import { getRequestListener } from '@hono/node-server';
import { mayPredict, type Principal } from './auth/roles.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-common.js';
import { problemForError, problemOf } from './problem.js';
import { createServingApp, DEFAULT_MAX_BATCH, type ServingAppOptions } from './serving-app.js';

const PREDICT_PATH = /^\/v1\/models\/([A-Za-z0-9_.-]{1,100})\/predict$/;
const BEARER = /^Bearer (.+)$/i;

type Instance = { features: Record<string, number>; key?: string };

/**
 * True when `body` is exactly what the predict route's schemas accept for a model with these features:
 * `{instances: [...]}` and nothing else, 1 to `maxBatch` instances, each `{features, key?}` (other fields
 * of an instance are ignored, as the route's schema strips them), `features` naming every feature once
 * with a finite number and nothing else, `key` a string of 1 to 500 characters.
 */
export function isWellFormedPredict(
  body: unknown,
  featureNames: readonly string[],
  maxBatch: number,
): body is { instances: Instance[] } {
  if (!isPlainObject(body)) return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'instances') return false;
  const instances = (body as { instances: unknown }).instances;
  if (!Array.isArray(instances) || instances.length === 0 || instances.length > maxBatch) return false;
  for (const instance of instances) {
    if (!isPlainObject(instance)) return false;
    const { features, key } = instance as { features?: unknown; key?: unknown };
    if (!isPlainObject(features)) return false;
    if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 500)) return false;
    let named = 0;
    for (const _ in features) named++;
    if (named !== featureNames.length) return false;
    for (const name of featureNames) {
      const value = Object.hasOwn(features, name) ? (features as Record<string, unknown>)[name] : undefined;
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
    }
  }
  return true;
}

/**
 * True when every instance of a well-formed predict body has only `features` and `key`: then the whole
 * body is `instances`, `features`, `key`, the model's feature names, finite numbers and strings, four
 * levels deep — nothing the app's prototype-safe parse would refuse (no prototype key, no depth, no
 * number out of range) unless a feature is named like one, which the caller checks once per model. An
 * instance with other fields (the app strips them, after its safe parse has looked at them) goes to the app.
 */
function hasOnlyKnownFields(instances: readonly Instance[]): boolean {
  for (const instance of instances) {
    for (const field in instance) if (field !== 'features' && field !== 'key') return false;
  }
  return true;
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The model server as a Node request listener: `createServingApp(options)` behind a fast path for
 * well-formed, authorised predict requests (see the file's comment).
 */
export function createServingListener(options: ServingAppOptions): RequestListener {
  const app = createServingApp(options);
  const toApp = getRequestListener(app.fetch);
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Bodies the app's safe parse takes by size (it counts UTF-8 bytes of the decoded text; an invalid byte
  // becomes three, so the bound is on a third of the limit unless the text is measured).
  const maxJsonBytes = DEFAULT_JSON_LIMITS.maxBytes;
  // A model with a feature named like a prototype key has every predict checked by the app.
  const fastModels = new Set(
    [...options.models]
      .filter(([, server]) => !server.featureNames.some((name) => FORBIDDEN_JSON_KEYS.includes(name)))
      .map(([name]) => name),
  );
  // What the app puts on every answer of its API (the health answer has them all and nothing else), as
  // flat [name, value, …] lists per content type, built once: only the length is added per answer.
  // The last two entries are the content length's, set per answer (writeHead reads the list at once).
  let ready: { json: string[]; problem: string[] } | undefined;
  const commonHeaders = Promise.resolve(app.request('http://serving.internal/v1/health')).then((answer) => {
    const common: string[] = [];
    answer.headers.forEach((value: string, name: string) => {
      if (name !== 'content-type' && name !== 'content-length') common.push(name, value);
    });
    ready = {
      json: [
        ...common,
        'content-type',
        answer.headers.get('content-type') ?? 'application/json',
        'content-length',
        '0',
      ],
      problem: [...common, 'content-type', 'application/problem+json', 'content-length', '0'],
    };
    return ready;
  });

  const send = (response: ServerResponse, status: number, type: 'json' | 'problem', body: unknown): unknown => {
    if (!ready) return commonHeaders.then(() => send(response, status, type, body));
    const headers = ready[type];
    const text = JSON.stringify(body);
    headers[headers.length - 1] = String(Buffer.byteLength(text));
    response.writeHead(status, headers);
    response.end(text);
    return undefined;
  };

  const sendProblem = (response: ServerResponse, mapped: ReturnType<typeof problemForError>) => {
    const problem = problemOf(mapped.kind, mapped.detail, mapped.errors);
    return send(response, problem.status, 'problem', problem);
  };

  const handOver = (request: IncomingMessage, response: ServerResponse, body?: Buffer) => {
    // The app reads a body the fast path already read from `rawBody` (@hono/node-server's hook for it).
    if (body) (request as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
    void toApp(request, response);
  };

  /** As the app's error handler answers what a handler threw. */
  const fail = (response: ServerResponse, error: unknown) => {
    const mapped = problemForError(error);
    if (mapped.kind === 'internal') options.onError?.(error);
    if (response.headersSent) response.destroy();
    else void sendProblem(response, mapped);
  };
  const settle = (response: ServerResponse, result: unknown) => {
    if (result instanceof Promise) result.catch((error: unknown) => fail(response, error));
  };

  return (request, response) => {
    const match = request.method === 'POST' ? PREDICT_PATH.exec(request.url ?? '') : null;
    const server = match && fastModels.has(match[1]!) ? options.models.get(match[1]!) : undefined;
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const declared = request.headers['content-length'];
    if (
      !match ||
      !server ||
      token === undefined ||
      !(request.headers['content-type'] ?? '').includes('json') ||
      declared === undefined ||
      request.headers['transfer-encoding'] !== undefined ||
      !(Number.parseInt(declared, 10) <= maxBodyBytes)
    ) {
      handOver(request, response);
      return;
    }
    const name = match[1]!;
    // The body is read with callbacks; a request whose token and rollout state are cached (nearly every
    // one) is answered in the 'end' callback itself, without a promise. The rest wait for the token's
    // check or the rollout's read on the asynchronous path, with the same decisions.
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('error', (error) => fail(response, error));
    request.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      try {
        const principal = options.auth.verifyTokenNow(token);
        settle(
          response,
          principal === undefined
            ? options.auth
                .verifyToken(token)
                .then((checked) => answerPredict(request, response, name, server, checked, body))
            : answerPredict(request, response, name, server, principal, body),
        );
      } catch (error) {
        fail(response, error);
      }
    });
  };

  /** Sends the answers, a shadow's left out (it is logged, never returned). */
  function reply(response: ServerResponse, name: string, predictions: Prediction[]): unknown {
    return send(response, 200, 'json', {
      model: name,
      predictions: predictions.map((answer) =>
        answer.shadow === undefined
          ? answer
          : { version: answer.version, arm: answer.arm, prediction: answer.prediction },
      ),
    });
  }

  /** As the app's route and error handler answer a failed predict. */
  function predictFailed(response: ServerResponse, error: unknown): unknown {
    if (error instanceof MlTasksError && error.code === 'MODEL_INVALID')
      return send(response, 503, 'problem', problemOf('unavailable', error.message));
    throw error;
  }

  /**
   * The fast path's decisions once the body is read and the principal known; a promise only when the
   * prediction has to wait (see `ModelServer.predictNow`).
   */
  function answerPredict(
    request: IncomingMessage,
    response: ServerResponse,
    name: string,
    server: ModelServer,
    principal: Principal | undefined,
    body: Buffer,
  ): unknown {
    if (!principal || !mayPredict(principal, name)) return handOver(request, response, body);
    // The native parse, then the exact shape: a body of that shape is one the safe parse accepts too
    // (hasOnlyKnownFields); anything else goes to the app, whose safe parse and schemas answer it.
    const text = body.toString('utf8');
    if (body.length * 3 > maxJsonBytes && Buffer.byteLength(text) > maxJsonBytes)
      return handOver(request, response, body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return handOver(request, response, body);
    }
    if (!isWellFormedPredict(parsed, server.featureNames, maxBatch) || !hasOnlyKnownFields(parsed.instances)) {
      return handOver(request, response, body);
    }
    let predictions: Prediction[] | undefined;
    try {
      predictions = server.predictNow(parsed.instances);
    } catch (error) {
      return predictFailed(response, error);
    }
    if (predictions) return reply(response, name, predictions);
    return server.predict(parsed.instances).then(
      (answers) => reply(response, name, answers),
      (error: unknown) => predictFailed(response, error),
    );
  }
}
