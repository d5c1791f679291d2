// An operator's actions on a run, each behind a confirmation: clear (every task or one, with its downstream,
// upstream, only the failed), mark a task success or failed (with downstream/upstream), cancel the run.
// Whoever renders these checks first that the user may operate the DAG; the API refuses the rest anyway.
import { useState } from 'preact/hooks';
import { cancelRun } from '../api.js';
import { clearTasks, describeRepair, markTasks } from '../operations-api.js';
import { ConfirmDialog } from './confirm-dialog.js';

type Open =
  | { kind: 'clear'; taskId: string | undefined }
  | { kind: 'mark'; taskId: string; state: 'success' | 'failed' }
  | { kind: 'cancel' };

export interface RepairProps {
  runId: string;
  /** The run's task ids, for the clear dialog's choice. */
  taskIds: string[];
  ended: boolean;
  /** Called with what happened, after the action answered. */
  onDone: (message: string) => void;
}

/** The run's buttons and, when one was pressed, its dialog. */
export function RunActions(props: RepairProps) {
  const [open, setOpen] = useState<Open>();
  return (
    <div class="actions">
      <button type="button" data-testid="clear-button" onClick={() => setOpen({ kind: 'clear', taskId: undefined })}>
        Clear…
      </button>
      {!props.ended && (
        <button type="button" class="danger" data-testid="cancel-button" onClick={() => setOpen({ kind: 'cancel' })}>
          Cancel run
        </button>
      )}
      {open && <RepairDialog {...props} open={open} close={() => setOpen(undefined)} />}
    </div>
  );
}

/** One task's buttons (in a row of the run's tasks, or on the task page). */
export function TaskActions(props: RepairProps & { taskId: string }) {
  const [open, setOpen] = useState<Open>();
  const { taskId } = props;
  return (
    <div class="actions">
      <button
        type="button"
        data-testid={`clear-task-${taskId}`}
        aria-label={`Clear ${taskId}`}
        onClick={() => setOpen({ kind: 'clear', taskId })}
      >
        Clear
      </button>
      <button
        type="button"
        data-testid={`mark-success-${taskId}`}
        aria-label={`Mark ${taskId} success`}
        onClick={() => setOpen({ kind: 'mark', taskId, state: 'success' })}
      >
        Success
      </button>
      <button
        type="button"
        data-testid={`mark-failed-${taskId}`}
        aria-label={`Mark ${taskId} failed`}
        onClick={() => setOpen({ kind: 'mark', taskId, state: 'failed' })}
      >
        Failed
      </button>
      {open && <RepairDialog {...props} open={open} close={() => setOpen(undefined)} />}
    </div>
  );
}

function RepairDialog({ runId, taskIds, onDone, open, close }: RepairProps & { open: Open; close: () => void }) {
  const [taskId, setTaskId] = useState(open.kind === 'cancel' ? undefined : open.taskId);
  // Airflow's Clear dialog has downstream on by default: what depended on the task should run again.
  const [downstream, setDownstream] = useState(open.kind === 'clear');
  const [upstream, setUpstream] = useState(false);
  const [onlyFailed, setOnlyFailed] = useState(false);

  if (open.kind === 'cancel') {
    return (
      <ConfirmDialog
        title={`Cancel run ${runId}?`}
        confirmLabel="Cancel the run"
        danger
        onClose={close}
        onConfirm={async () => {
          const result = await cancelRun(runId);
          onDone(
            result.outcome === 'cancelled'
              ? 'Cancelled.'
              : result.outcome === 'requested'
                ? 'Cancellation asked of the scheduler driving the run.'
                : 'The run had already ended.',
          );
        }}
      >
        <p>Running tasks are stopped and the run ends as failed.</p>
      </ConfirmDialog>
    );
  }

  const around = (
    <>
      <label class="check">
        <input
          type="checkbox"
          data-testid="clear-downstream"
          checked={downstream}
          onChange={(e) => setDownstream(e.currentTarget.checked)}
        />{' '}
        Downstream (every task below)
      </label>
      <label class="check">
        <input
          type="checkbox"
          data-testid="clear-upstream"
          checked={upstream}
          onChange={(e) => setUpstream(e.currentTarget.checked)}
        />{' '}
        Upstream (every task above)
      </label>
    </>
  );
  const scope = {
    ...(taskId ? { taskIds: [taskId] } : {}),
    ...(downstream ? { downstream: true } : {}),
    ...(upstream ? { upstream: true } : {}),
  };

  if (open.kind === 'mark') {
    return (
      <ConfirmDialog
        title={`Mark ${open.taskId} ${open.state}?`}
        confirmLabel={`Mark ${open.state}`}
        danger={open.state === 'failed'}
        onClose={close}
        onConfirm={async () =>
          onDone(describeRepair(await markTasks(runId, { ...scope, taskIds: [open.taskId], state: open.state })))
        }
      >
        <p>The state is set without running anything; tasks left out are re-evaluated by their trigger rules.</p>
        {around}
      </ConfirmDialog>
    );
  }

  return (
    <ConfirmDialog
      title={taskId ? `Clear ${taskId}?` : 'Clear the run?'}
      confirmLabel="Clear"
      onClose={close}
      onConfirm={async () =>
        onDone(describeRepair(await clearTasks(runId, { ...scope, ...(onlyFailed ? { onlyFailed: true } : {}) })))
      }
    >
      <p>Cleared tasks run again as their next try; earlier tries' logs stay readable.</p>
      <label class="field">
        Tasks
        <select
          data-testid="clear-task-choice"
          value={taskId ?? ''}
          onChange={(e) => setTaskId(e.currentTarget.value || undefined)}
        >
          <option value="">Every task of the run</option>
          {taskIds.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      {around}
      <label class="check">
        <input
          type="checkbox"
          data-testid="clear-only-failed"
          checked={onlyFailed}
          onChange={(e) => setOnlyFailed(e.currentTarget.checked)}
        />{' '}
        Only failed (failed and upstream_failed)
      </label>
    </ConfirmDialog>
  );
}
