// The `live` miss policy's remote scorer: asks a `batuta serve` model server (POST
// /v1/models/MODEL/predict with a bearer token) instead of a model loaded in the consumer's process.
// Each row carries the entity's key, so the server routes it by the same rollout as the lookup did.
import { MlTasksError } from '../errors.js';
import type { LiveScorer } from './prediction-client.js';

export interface ServedModelScorerOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8081. */
  url: string;
  /** The model's name on the server. */
  model: string;
  /** A token with the model's predict permission (`batuta tokens create … --model MODEL`). */
  token: string;
  /** The feature names, in the order the lookups give the features. */
  featureNames: readonly string[];
  /** Rows per request (the server's default limit is 1,000). */
  maxBatch?: number;
  /** Longest wait for one request (default 10 s). */
  timeoutMs?: number;
  /** The fetch to use (default: the global one). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

interface PredictResponse {
  predictions?: Array<{ prediction: string | number | null; version: string | null }>;
}

/** A LiveScorer over a `batuta serve` model server: one HTTP request per `maxBatch` missed rows. */
export function servedModelScorer(options: ServedModelScorerOptions): LiveScorer {
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(options.model)}/predict`;
  const send = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const maxBatch = options.maxBatch ?? 1_000;
  const predictLabels = async (rows: ReadonlyArray<{ features: readonly number[]; key?: string }>) => {
    const labels: string[] = [];
    for (let from = 0; from < rows.length; from += maxBatch) {
      const instances = rows.slice(from, from + maxBatch).map((row) => {
        if (row.features.length !== options.featureNames.length) {
          throw new MlTasksError(
            'FEATURE_COUNT_MISMATCH',
            `${options.model} on ${options.url} takes ${options.featureNames.length} features; the lookup has ${row.features.length}`,
          );
        }
        const features = Object.fromEntries(options.featureNames.map((name, index) => [name, row.features[index]]));
        return row.key === undefined ? { features } : { features, key: row.key };
      });
      let response: Response;
      try {
        response = await send(endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ instances }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        throw new MlTasksError('LIVE_SCORER_FAILED', `${endpoint}: ${(error as Error).message}`, {
          retryable: true,
          cause: error,
        });
      }
      if (!response.ok) {
        const detail = await response.text().catch(() => '');
        throw new MlTasksError(
          'LIVE_SCORER_FAILED',
          `${endpoint} answered ${response.status}: ${detail.slice(0, 300)}`,
          {
            retryable: response.status >= 500 || response.status === 429,
          },
        );
      }
      const body = (await response.json()) as PredictResponse;
      for (const [at, answer] of (body.predictions ?? []).entries()) {
        // null: the server held the entity out (its rollout routes it around every model).
        if (answer.prediction === null) {
          throw new MlTasksError(
            'LIVE_SCORER_FAILED',
            `${endpoint} held row ${from + at} out: it answers no prediction`,
          );
        }
        labels.push(String(answer.prediction));
      }
      if (labels.length !== Math.min(rows.length, from + maxBatch)) {
        throw new MlTasksError(
          'LIVE_SCORER_FAILED',
          `${endpoint} answered ${labels.length - from} of ${instances.length} rows`,
        );
      }
    }
    return labels;
  };
  return {
    async predictLabel(features, context) {
      const [label] = await predictLabels([{ features, ...(context?.key === undefined ? {} : { key: context.key }) }]);
      return label!;
    },
    predictLabels,
  };
}
