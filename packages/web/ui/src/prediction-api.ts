// The prediction-set and rollout routes of the REST API as the predictions page sees them (the shapes of
// packages/web/src/routes/prediction-schemas.ts), through the shared `api` call.
import { api } from './api.js';

export type RolloutStatus = 'running' | 'promoted' | 'aborted';

export interface ModelSummary {
  model: string;
  layout: 'versioned' | 'plain' | null;
  current: string | null;
  versions: number;
  rollout: { strategy: string; status: RolloutStatus } | null;
}

export interface IngestGate {
  verdict: 'passed' | 'forced';
  rows: number;
  previousVersion?: string;
  previousRows?: number;
  minKeepShare: number;
  reason?: string;
}

export interface PredictionVersion {
  version: string;
  status: 'writing' | 'complete';
  rows: number;
  current: boolean;
  bad?: string;
  startedAt: string;
  committedAt?: string;
  activatedAt?: string;
  classNames?: string[];
  featureCount?: number;
  gate?: IngestGate;
}

export interface Interval {
  estimate: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
}

export interface Difference extends Interval {
  significant: boolean;
}

export interface GuardReading extends Interval {
  guard: 'errorRate' | 'disagreementRate';
  limit: number;
  trials: number;
  verdict: 'no-data' | 'ok' | 'above-limit' | 'broken';
}

export interface Rollout {
  model: string;
  strategy: 'single' | 'shadow' | 'ab' | 'canary' | 'bandit';
  status: RolloutStatus;
  step: number;
  steps: number;
  stepShares: number[];
  baseline: string;
  candidates: string[];
  holdout: number;
  split: Record<string, number>;
  serving: string | null;
  reason: string | null;
  startedAt: string;
  stepStartedAt: string;
  hold: { holdMs: number; remainingMs: number; minRequests: number; candidateRequests: number } | null;
  figures: {
    arm: string;
    requests: number;
    errors: number;
    compared: number;
    disagreements: number;
    feedbackTrials: number;
    feedbackCorrect: number;
  }[];
  guards: GuardReading[];
  accuracy: Difference | null;
  errorRate: Difference | null;
  sampleRatio: {
    chiSquare: number | null;
    degreesOfFreedom: number;
    pValue: number | null;
    alpha: number;
    mismatch: boolean;
  } | null;
  sequentialTest: { maxAccuracyDrop: number; alpha: number; pValue: number; rejected: boolean } | null;
  bandit: Record<string, { pulls: number; rewards: number }> | null;
  log: { id: string; at: string; type: string; fields: Record<string, string> }[];
}

export interface RolloutDecision {
  model: string;
  action: 'hold' | 'advance' | 'promote' | 'abort';
  reason: string;
  rollout: Rollout;
}

const modelPath = (model: string) => `/api/models/${encodeURIComponent(model)}`;

export const listModels = () => api<{ namespace: string; models: ModelSummary[] }>('/api/models');
export const listVersions = (model: string) =>
  api<{ model: string; current: string | null; versions: PredictionVersion[] }>(`${modelPath(model)}/versions`);
export const activateVersion = (model: string, version: string, force = false) =>
  api<{ model: string; previous: string | null; current: string }>(`${modelPath(model)}/activate`, {
    method: 'POST',
    body: force ? { version, force } : { version },
  });
export const rollbackVersion = (model: string) =>
  api<{ model: string; from: string; to: string; skipped: string[] }>(`${modelPath(model)}/rollback`, {
    method: 'POST',
    body: {},
  });
export const getRollout = (model: string) => api<Rollout>(`${modelPath(model)}/rollout`);
export const decideRollout = (model: string, action: 'advance' | 'promote' | 'abort', body: object = {}) =>
  api<RolloutDecision>(`${modelPath(model)}/rollout/${action}`, { method: 'POST', body });
