// A model's prediction sets, oldest first: rows, when each was committed, what the ingest gate decided,
// marks, and which one consumers read now; operators activate a version or roll back, after confirming.
import { formatDate } from '../format.js';
import type { PredictionVersion } from '../prediction-api.js';
import { ConfirmButton } from './confirm-button.js';

export interface VersionTableProps {
  model: string;
  versions: PredictionVersion[];
  mayOperate: boolean;
  onActivate: (version: string, force: boolean) => Promise<void>;
  onRollback: () => Promise<void>;
}

function gateText(version: PredictionVersion): string {
  const gate = version.gate;
  if (!gate) return 'not recorded';
  const against =
    gate.previousVersion !== undefined
      ? ` (${gate.rows} rows against ${gate.previousRows} of ${gate.previousVersion})`
      : '';
  return gate.verdict === 'passed' ? `passed${against}` : `forced: ${gate.reason ?? ''}`;
}

export function VersionTable({ model, versions, mayOperate, onActivate, onRollback }: VersionTableProps) {
  const current = versions.find((v) => v.current);
  const earlier = current
    ? versions
        .filter((v) => v.status === 'complete' && !v.bad && v.version !== current.version)
        .filter((v) => versions.indexOf(v) < versions.indexOf(current))
        .at(-1)
    : undefined;
  return (
    <section aria-labelledby="versions-title" data-testid="versions">
      <div class="section-head">
        <h2 id="versions-title">Prediction sets</h2>
        {mayOperate && (
          <ConfirmButton
            label="Roll back"
            title={`Roll back ${model}?`}
            confirmLabel="Roll back"
            danger
            disabled={!earlier}
            testId="rollback"
            onConfirm={onRollback}
          >
            <p>
              Consumers will read <strong>{earlier?.version ?? '—'}</strong> instead of{' '}
              <strong>{current?.version ?? '—'}</strong>, and {current?.version ?? 'the current version'} is marked bad
              (a later rollback skips it).
            </p>
          </ConfirmButton>
        )}
      </div>
      {versions.length === 0 ? (
        <p>No prediction sets were ingested for this model.</p>
      ) : (
        <table class="list versions">
          <caption class="visually-hidden">Prediction sets of {model}, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Rows</th>
              <th scope="col">Committed</th>
              <th scope="col">Last activated</th>
              <th scope="col">Ingest gate</th>
              <th scope="col">Mark</th>
              {mayOperate && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr
                key={v.version}
                class={v.current ? 'current' : undefined}
                data-testid={`version-${v.version}`}
                aria-current={v.current ? 'true' : undefined}
              >
                <th scope="row">
                  {v.version}
                  {v.current && (
                    <span class="badge" data-testid="current-badge">
                      current
                    </span>
                  )}
                </th>
                <td>{v.status}</td>
                <td>{v.rows}</td>
                <td>{formatDate(v.committedAt)}</td>
                <td data-testid="activated-at">{formatDate(v.activatedAt)}</td>
                <td class={v.gate?.verdict === 'forced' ? 'warn' : undefined}>{gateText(v)}</td>
                <td>{v.bad ? <span class="bad">bad: {v.bad}</span> : ''}</td>
                {mayOperate && (
                  <td>
                    {!v.current && v.status === 'complete' && (
                      <ConfirmButton
                        label="Activate"
                        title={`Activate ${v.version} of ${model}?`}
                        confirmLabel={v.bad ? 'Activate anyway' : 'Activate'}
                        testId={`activate-${v.version}`}
                        onConfirm={() => onActivate(v.version, Boolean(v.bad))}
                      >
                        <p>
                          Consumers will read <strong>{v.version}</strong> ({v.rows} rows) from now on
                          {current ? ` instead of ${current.version}` : ''}.
                        </p>
                        {v.bad && <p class="warn">It is marked bad ({v.bad}); activating clears the mark.</p>}
                      </ConfirmButton>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
