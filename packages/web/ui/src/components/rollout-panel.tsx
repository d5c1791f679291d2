// A model's rollout: strategy and status, the split bar, the canary's step and hold time left, each guard's
// interval against its limit, the A/B comparisons, the sample-ratio check, the sequential test and the
// recent log; operators check/advance, promote or abort it, after confirming.
import { formatDate, formatDuration } from '../format.js';
import type { Difference, GuardReading, Rollout } from '../prediction-api.js';
import { ConfirmButton } from './confirm-button.js';
import { SplitBar } from './split-bar.js';

export interface RolloutPanelProps {
  rollout: Rollout;
  mayOperate: boolean;
  onAction: (action: 'advance' | 'promote' | 'abort', body: object) => Promise<void>;
}

const number = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : String(Math.round(value * 10_000) / 10_000);
const interval = (i: { lower: number | null; upper: number | null; confidence: number }) =>
  `[${number(i.lower)}, ${number(i.upper)}] at ${i.confidence * 100} %`;

const GUARD_NAMES: Record<GuardReading['guard'], string> = {
  errorRate: 'Error rate',
  disagreementRate: 'Disagreement rate',
};
const GUARD_VERDICTS: Record<GuardReading['verdict'], string> = {
  'no-data': 'no data yet',
  ok: 'within the limit',
  'above-limit': 'above the limit, not confidently',
  broken: 'confidently above the limit (aborts at the next check)',
};

function DifferenceRow({ label, difference }: { label: string; difference: Difference | null }) {
  if (!difference) return null;
  return (
    <tr>
      <th scope="row">{label} (candidate − baseline)</th>
      <td>{number(difference.estimate)}</td>
      <td>{interval(difference)}</td>
      <td>{difference.significant ? 'significant' : 'not significant'}</td>
    </tr>
  );
}

export function RolloutPanel({ rollout, mayOperate, onAction }: RolloutPanelProps) {
  const running = rollout.status === 'running';
  const canary = rollout.strategy === 'canary';
  const srm = rollout.sampleRatio;
  const sequential = rollout.sequentialTest;
  return (
    <section aria-labelledby="rollout-title" class="rollout" data-testid="rollout-panel">
      <div class="section-head">
        <h2 id="rollout-title">Rollout</h2>
        {mayOperate && rollout.status !== 'aborted' && (
          <div class="actions">
            {running && canary && (
              <ConfirmButton
                label="Check guards"
                title="Run the canary's check now?"
                testId="rollout-check"
                onConfirm={() => onAction('advance', {})}
              >
                <p>The guards and the hold time decide: hold, advance, promote or abort.</p>
              </ConfirmButton>
            )}
            {running && canary && (
              <ConfirmButton
                label="Advance"
                title="Advance to the next step now?"
                testId="rollout-advance"
                onConfirm={() => onAction('advance', { force: true })}
              >
                <p>
                  Moves from step {rollout.step} to the next without waiting for its hold time or requests (past the
                  last step, it promotes).
                </p>
              </ConfirmButton>
            )}
            {running && (
              <ConfirmButton
                label="Promote"
                title={`Promote the rollout of ${rollout.model}?`}
                testId="rollout-promote"
                onConfirm={() => onAction('promote', {})}
              >
                <p>The candidate{rollout.strategy === 'bandit' ? ' (the best arm)' : ''} answers every request.</p>
              </ConfirmButton>
            )}
            <ConfirmButton
              label="Abort"
              title={`Abort the rollout of ${rollout.model}?`}
              danger
              testId="rollout-abort"
              onConfirm={() => onAction('abort', {})}
            >
              <p>{rollout.baseline} answers every request again.</p>
            </ConfirmButton>
          </div>
        )}
      </div>
      <dl class="facts">
        <dt>Strategy</dt>
        <dd data-testid="rollout-strategy">{rollout.strategy}</dd>
        <dt>Status</dt>
        <dd data-testid="rollout-status">
          {rollout.status}
          {rollout.serving ? ` — ${rollout.serving} serves everything` : ''}
        </dd>
        {rollout.reason && (
          <>
            <dt>Reason</dt>
            <dd>{rollout.reason}</dd>
          </>
        )}
        <dt>Versions</dt>
        <dd>
          baseline {rollout.baseline}; {rollout.candidates.length > 1 ? 'candidates' : 'candidate'}{' '}
          {rollout.candidates.join(', ') || '—'}
        </dd>
        <dt>Started</dt>
        <dd>{formatDate(rollout.startedAt)}</dd>
        {canary && (
          <>
            <dt>Step</dt>
            <dd data-testid="rollout-step">
              {rollout.step} of {rollout.steps} ({rollout.stepShares.map((s) => `${Math.round(s * 100)} %`).join(' → ')}
              )
            </dd>
          </>
        )}
        {rollout.hold && (
          <>
            <dt>Hold</dt>
            <dd data-testid="rollout-hold">
              {rollout.hold.remainingMs > 0 ? `${formatDuration(rollout.hold.remainingMs)} left` : 'hold time passed'};{' '}
              {rollout.hold.candidateRequests} of {rollout.hold.minRequests} candidate requests
            </dd>
          </>
        )}
      </dl>
      <h3>Split</h3>
      <SplitBar split={rollout.split} holdout={rollout.holdout} />

      {(rollout.guards.length > 0 || rollout.accuracy || rollout.errorRate) && (
        <>
          <h3>Guards and comparisons</h3>
          <table class="list" data-testid="rollout-guards">
            <caption class="visually-hidden">Guard metrics with their confidence intervals</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Estimate</th>
                <th scope="col">Interval</th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {rollout.guards.map((g) => (
                <tr key={g.guard} class={`guard-${g.verdict}`} data-testid={`guard-${g.guard}`}>
                  <th scope="row">
                    {GUARD_NAMES[g.guard]} (limit {number(g.limit)}, {g.trials} trials)
                  </th>
                  <td>{number(g.estimate)}</td>
                  <td>{interval(g)}</td>
                  <td>{GUARD_VERDICTS[g.verdict]}</td>
                </tr>
              ))}
              <DifferenceRow label="Feedback accuracy" difference={rollout.accuracy} />
              <DifferenceRow label="Error rate" difference={rollout.errorRate} />
            </tbody>
          </table>
        </>
      )}

      <h3>Checks</h3>
      <ul class="checks">
        <li data-testid="rollout-srm" class={srm?.mismatch ? 'bad' : undefined}>
          Sample ratio:{' '}
          {srm
            ? `${srm.mismatch ? 'MISMATCH — the assignment is biased; do not trust the comparisons' : 'ok'} (χ² ${number(srm.chiSquare)}, p ${number(srm.pValue)}, alpha ${srm.alpha})`
            : 'not checked (no split or holdout to check)'}
        </li>
        <li data-testid="rollout-sequential" class={sequential?.rejected ? 'bad' : undefined}>
          Sequential accuracy test:{' '}
          {sequential
            ? `${sequential.rejected ? 'rejected "no difference"' : 'no difference shown yet'} (always-valid p ${number(sequential.pValue)}, alpha ${sequential.alpha}, abort below −${sequential.maxAccuracyDrop})`
            : 'not configured'}
        </li>
      </ul>

      {rollout.figures.length > 0 && (
        <>
          <h3>Figures</h3>
          <table class="list">
            <caption class="visually-hidden">Requests and feedback per version since the rollout started</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Requests</th>
                <th scope="col">Errors</th>
                <th scope="col">Compared</th>
                <th scope="col">Disagreed</th>
                <th scope="col">Feedback</th>
              </tr>
            </thead>
            <tbody>
              {rollout.figures.map((f) => (
                <tr key={f.arm}>
                  <th scope="row">{f.arm === '~holdout' ? '(holdout)' : f.arm}</th>
                  <td>{f.requests}</td>
                  <td>{f.errors}</td>
                  <td>{f.compared}</td>
                  <td>{f.disagreements}</td>
                  <td>{f.feedbackTrials > 0 ? `${f.feedbackCorrect}/${f.feedbackTrials}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      <h3>Recent log</h3>
      <ol class="rollout-log" data-testid="rollout-log">
        {rollout.log.map((entry) => (
          <li key={entry.id}>
            <time dateTime={entry.at}>{formatDate(entry.at)}</time> <strong>{entry.type}</strong>{' '}
            {Object.entries(entry.fields)
              .map(([key, value]) => `${key}: ${value}`)
              .join('; ')}
          </li>
        ))}
      </ol>
    </section>
  );
}
