// The soak's invariants, checked over plain data read at the end: the stored runs and their task
// instances, the ledger of side effects and the run ids the manual triggers printed. Pure: no I/O.
import type { DagRunRecord, TaskInstanceRecord } from '@batuta/scheduler';
import type { SoakDag } from './dags.js';

export interface SoakObservations {
  runs: DagRunRecord[];
  instances: Map<string, TaskInstanceRecord[]>;
  ledgerLines: string[];
  dags: SoakDag[];
  /** Anchor of the schedules (startDate). */
  startDateMs: number;
  /** Fires at or after this time and at or before `windowEndMs` must each have exactly one run. */
  windowStartMs: number;
  windowEndMs: number;
  /** Run ids printed by `batuta dags trigger` calls that exited 0. */
  triggeredRunIds: string[];
}

/** One broken invariant, named so the report can say which run or task broke it. */
export interface Violation {
  invariant: 'terminal' | 'missing_fire' | 'doubled_fire' | 'missing_trigger' | 'double_effect' | 'missing_effect';
  detail: string;
  runId?: string;
}

export interface InvariantReport {
  runs: number;
  succeeded: number;
  failed: number;
  /** Runs not terminal at the end, fires without a run, and triggered runs not stored. */
  lost: number;
  nonTerminal: number;
  missingFires: number;
  missingTriggered: number;
  /** Fires with more than one run. */
  duplicated: number;
  expectedFires: number;
  /** Successful shell instances whose final try left more than one ledger line, or a line of a later try. */
  doubleEffects: number;
  /** Successful shell instances whose final try left no ledger line. */
  missingEffects: number;
  /** Ledger lines of earlier tries of instances that succeeded later (retries, planned or after chaos). */
  retriedEffects: number;
  ledgerLines: number;
  violations: Violation[];
  /** Why runs failed (reason → count): failures are allowed, but worth reading. */
  failureReasons: Record<string, number>;
}

const terminal = new Set(['success', 'failed']);

/** Checks every invariant; `violations` names each break. */
export function checkInvariants(observed: SoakObservations): InvariantReport {
  const violations: Violation[] = [];
  const failureReasons: Record<string, number> = {};
  let succeeded = 0;
  let failed = 0;
  for (const run of observed.runs) {
    if (run.state === 'success') succeeded++;
    if (run.state === 'failed') {
      failed++;
      const reason = (run.reason ?? 'no reason').slice(0, 80);
      failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
    }
    if (!terminal.has(run.state)) {
      const open = (observed.instances.get(run.runId) ?? [])
        .filter((i) => !['success', 'failed', 'skipped', 'upstream_failed', 'removed'].includes(i.state))
        .map((i) => `${i.taskId}[${i.mapIndex}]=${i.state}@try${i.tryNumber}${i.worker ? ` on ${i.worker}` : ''}`);
      violations.push({
        invariant: 'terminal',
        runId: run.runId,
        detail: `run ${run.runId} is ${run.state} (${open.join(', ') || 'no open instance'})`,
      });
    }
  }
  const nonTerminal = violations.length;

  // Scheduled fires: exactly one run per logical date of the window.
  let expectedFires = 0;
  let missingFires = 0;
  let duplicated = 0;
  for (const dag of observed.dags) {
    const byDate = new Map<number, string[]>();
    for (const run of observed.runs) {
      if (run.dagId !== dag.id || run.kind !== 'scheduled') continue;
      byDate.set(run.logicalDateMs, [...(byDate.get(run.logicalDateMs) ?? []), run.runId]);
    }
    for (const [date, ids] of byDate) {
      if (ids.length > 1) {
        duplicated++;
        violations.push({
          invariant: 'doubled_fire',
          detail: `${dag.id} has ${ids.length} runs for ${new Date(date).toISOString()}: ${ids.join(', ')}`,
        });
      }
    }
    if (dag.periodMs === undefined) continue;
    const first =
      observed.startDateMs + Math.ceil((observed.windowStartMs - observed.startDateMs) / dag.periodMs) * dag.periodMs;
    for (let date = first; date <= observed.windowEndMs; date += dag.periodMs) {
      expectedFires++;
      if (!byDate.has(date)) {
        missingFires++;
        violations.push({
          invariant: 'missing_fire',
          detail: `${dag.id} has no run for ${new Date(date).toISOString()}`,
        });
      }
    }
  }

  const stored = new Set(observed.runs.map((run) => run.runId));
  let missingTriggered = 0;
  for (const runId of observed.triggeredRunIds) {
    if (stored.has(runId)) continue;
    missingTriggered++;
    violations.push({ invariant: 'missing_trigger', runId, detail: `triggered run ${runId} is not stored` });
  }

  // Side effects: `run task mapIndex try` lines, counted per attempt.
  const attempts = new Map<string, number>();
  for (const line of observed.ledgerLines) {
    const parts = line.trim().split(' ');
    if (parts.length < 4) continue;
    const [taskId, mapIndex, tryNumber] = parts.slice(-3);
    const key = `${parts.slice(0, -3).join(' ')}|${taskId}|${mapIndex}|${tryNumber}`;
    attempts.set(key, (attempts.get(key) ?? 0) + 1);
  }
  let doubleEffects = 0;
  let missingEffects = 0;
  let retriedEffects = 0;
  const dagsById = new Map(observed.dags.map((dag) => [dag.id, dag]));
  for (const run of observed.runs) {
    const dag = dagsById.get(run.dagId);
    if (!dag) continue;
    for (const instance of observed.instances.get(run.runId) ?? []) {
      if (instance.state !== 'success' || !dag.effectTasks.includes(instance.taskId)) continue;
      if (dag.mappedTasks.includes(instance.taskId) !== instance.mapIndex >= 0) continue;
      const name = `${run.runId} ${instance.taskId}[${instance.mapIndex}]`;
      const key = (tryNumber: number) => `${run.runId}|${instance.taskId}|${instance.mapIndex}|${tryNumber}`;
      const final = attempts.get(key(instance.tryNumber)) ?? 0;
      if (final === 0) {
        missingEffects++;
        violations.push({
          invariant: 'missing_effect',
          runId: run.runId,
          detail: `${name} succeeded at try ${instance.tryNumber} without its ledger line`,
        });
      }
      let later = 0;
      for (
        let tryNumber = instance.tryNumber + 1;
        attempts.has(key(tryNumber)) || tryNumber < instance.tryNumber + 4;
        tryNumber++
      )
        later += attempts.get(key(tryNumber)) ?? 0;
      if (final > 1 || later > 0) {
        doubleEffects++;
        violations.push({
          invariant: 'double_effect',
          runId: run.runId,
          detail: `${name} succeeded at try ${instance.tryNumber}: ${final} ledger lines of that try, ${later} of later tries (${instance.worker ?? 'no worker'})`,
        });
      }
      for (let tryNumber = 1; tryNumber < instance.tryNumber; tryNumber++)
        retriedEffects += attempts.get(key(tryNumber)) ?? 0;
    }
  }

  return {
    runs: observed.runs.length,
    succeeded,
    failed,
    lost: nonTerminal + missingFires + missingTriggered,
    nonTerminal,
    missingFires,
    missingTriggered,
    duplicated,
    expectedFires,
    doubleEffects,
    missingEffects,
    retriedEffects,
    ledgerLines: observed.ledgerLines.filter((line) => line.trim()).length,
    violations,
    failureReasons,
  };
}
