// The predictions page: the models with prediction sets or a rollout; for one model, its versions (with
// the ingest gate's record, the current one marked, activate and rollback for operators) and its rollout
// panel. Every change asks for confirmation and shows what the server answered.
import '../predictions.css';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, type Me, roleAllows } from '../api.js';
import { RolloutPanel } from '../components/rollout-panel.js';
import { VersionTable } from '../components/version-table.js';
import {
  activateVersion,
  decideRollout,
  getRollout,
  listModels,
  listVersions,
  type ModelSummary,
  type PredictionVersion,
  type Rollout,
  rollbackVersion,
} from '../prediction-api.js';
import { Link } from '../router.js';

/** The page's address, for one model or the list. */
export const predictionsPath = (model?: string) =>
  model === undefined ? '/predictions' : `/predictions/${encodeURIComponent(model)}`;

const messageOf = (failure: unknown) => (failure instanceof Error ? failure.message : String(failure));

export function PredictionsPage({ user, model }: { user: Me; model?: string }) {
  const [models, setModels] = useState<ModelSummary[]>();
  const [namespace, setNamespace] = useState<string>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    document.title = model ? `${model} · Predictions · Batuta` : 'Predictions · Batuta';
    listModels()
      .then((list) => {
        setModels(list.models);
        setNamespace(list.namespace);
      })
      .catch((failure: unknown) => setError(messageOf(failure)));
  }, [model]);

  return (
    <section aria-labelledby="predictions-title" class="predictions">
      <h1 id="predictions-title">Predictions</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!models && !error && <p aria-busy="true">Loading…</p>}
      {models && models.length === 0 && <p>No model has prediction sets or a rollout in namespace {namespace}.</p>}
      {models && models.length > 0 && (
        <nav aria-label="Models" class="models">
          <ul data-testid="model-list">
            {models.map((m) => (
              <li key={m.model}>
                <Link
                  href={predictionsPath(m.model)}
                  aria-current={m.model === model ? 'page' : undefined}
                  data-testid={`model-${m.model}`}
                >
                  {m.model}
                </Link>{' '}
                <span class="muted">
                  {m.current ? `current ${m.current}` : 'no current version'} · {m.versions} version
                  {m.versions === 1 ? '' : 's'}
                  {m.rollout ? ` · ${m.rollout.strategy} rollout ${m.rollout.status}` : ''}
                </span>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {model && <ModelDetail key={model} model={model} mayOperate={roleAllows(user.role, 'operator')} />}
    </section>
  );
}

function ModelDetail({ model, mayOperate }: { model: string; mayOperate: boolean }) {
  const [versions, setVersions] = useState<PredictionVersion[]>();
  const [rollout, setRollout] = useState<Rollout | null>();
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<string>();

  const load = useCallback(async () => {
    try {
      const [list, found] = await Promise.all([
        listVersions(model),
        getRollout(model).catch((failure: unknown) => {
          if (failure instanceof ApiError && failure.status === 404) return null;
          throw failure;
        }),
      ]);
      setVersions(list.versions);
      setRollout(found);
      setError(undefined);
    } catch (failure) {
      setError(messageOf(failure));
    }
  }, [model]);

  useEffect(() => {
    void load();
  }, [load]);

  /**
   * Runs a change, reloads, then says what happened (so the message and the page agree); a refusal is
   * shown as the server worded it.
   */
  const act = async (change: () => Promise<string>) => {
    let done: string | undefined;
    let failed: string | undefined;
    try {
      done = await change();
    } catch (failure) {
      failed = messageOf(failure);
    }
    await load();
    setStatus(done);
    if (failed !== undefined) setError(failed);
  };

  return (
    <article aria-labelledby="model-title" data-testid="model-detail">
      <h2 id="model-title" class="model-title">
        {model}
      </h2>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p role="status" data-testid="prediction-status">
        {status}
      </p>
      {!versions && !error && <p aria-busy="true">Loading…</p>}
      {versions && (
        <VersionTable
          model={model}
          versions={versions}
          mayOperate={mayOperate}
          onActivate={(version, force) =>
            act(async () => {
              const done = await activateVersion(model, version, force);
              return `${done.current} is current (was ${done.previous ?? 'none'}).`;
            })
          }
          onRollback={() =>
            act(async () => {
              const done = await rollbackVersion(model);
              return `Rolled back from ${done.from} to ${done.to}; ${done.from} is marked bad.`;
            })
          }
        />
      )}
      {rollout === null && (
        <section aria-labelledby="rollout-title" data-testid="rollout-panel">
          <h2 id="rollout-title">Rollout</h2>
          <p>No rollout for this model (start one with batuta rollout start).</p>
        </section>
      )}
      {rollout && (
        <RolloutPanel
          rollout={rollout}
          mayOperate={mayOperate}
          onAction={(action, body) =>
            act(async () => {
              const done = await decideRollout(model, action, body);
              return `${done.action}: ${done.reason}`;
            })
          }
        />
      )}
    </article>
  );
}
