// Commands that act on runs through the store: trigger, cancel, backfill, show, list; pause/unpause;
// events publish. The scheduler daemon does the work; these commands only record intent.
import {
  type DagRunRecord,
  type DagSpec,
  type JsonLimits,
  newRunId,
  type OperatorRegistry,
  type RunState,
  resolveParams,
  type StateStore,
} from '@batuta/scheduler';
import { CONTROL_STREAM, eventStream, planBackfill } from '@batuta/scheduler/internals';
import { checkName } from '../check-name.js';
import { NotFoundError, UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { readJsonObject } from '../json-input.js';
import { durationOrNull, isoOrNull, printJson, runsListJson, runsShowJson } from '../json-shapes.js';
import { formatDurationMs, renderTable } from '../render/table.js';
import { findDag, openStore } from '../store.js';

/** The conf limits of the configuration, for readJsonObject. */
export function confLimits(config: CliConfig): JsonLimits {
  return { maxBytes: config.maxConfBytes, maxDepth: config.maxConfDepth };
}

const RUN_STATES: readonly RunState[] = ['queued', 'running', 'success', 'failed'];

/**
 * Warns (on stderr) about conf keys the DAG does not declare as params: they are kept, as Airflow keeps
 * them, but a typo in a param name would otherwise pass silently and the default would be used.
 */
export function warnUnknownConfKeys(dag: DagSpec, conf: Record<string, unknown>, flag: string): void {
  const declared = Object.keys(dag.params);
  for (const key of Object.keys(conf)) {
    if (declared.includes(key)) continue;
    const known = declared.length > 0 ? `its params are ${declared.join(', ')}` : 'it declares no params';
    console.error(`warning: ${flag} key '${key}' is not a param of DAG '${dag.id}' (${known}); it is kept`);
  }
}

async function withStore<T>(config: CliConfig, body: (store: StateStore) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

async function waitForRun(store: StateStore, runId: string): Promise<DagRunRecord | undefined> {
  for (;;) {
    const run = await store.getRun(runId);
    if (!run || run.state === 'success' || run.state === 'failed') return run;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `batuta dags trigger DAG [--conf JSON | --conf-file PATH] [--wait]`: queues a manual run; a scheduler starts it. */
export async function dagsTrigger(
  config: CliConfig,
  operators: OperatorRegistry,
  dagId: string,
  options: { conf?: string; confFile?: string; wait?: boolean },
): Promise<number> {
  checkName('DAG', dagId);
  const given = await readJsonObject({
    text: options.conf,
    file: options.confFile,
    flag: '--conf',
    limits: confLimits(config),
  });
  const dag = await findDag(config, operators, dagId);
  warnUnknownConfKeys(dag, given, '--conf');
  const conf = resolveParams(dag.params, given, 'conf', dag.paramsSchema);
  return withStore(config, async (store) => {
    const now = Date.now();
    const runId = newRunId('manual', dag.id, now);
    await store.createRun({
      runId,
      dagId: dag.id,
      kind: 'manual',
      state: 'queued',
      logicalDateMs: now,
      conf,
      createdMs: now,
    });
    console.log(runId);
    if (!options.wait) return 0;
    const run = await waitForRun(store, runId);
    console.log(`run ${runId}: ${run?.state ?? 'gone'}${run?.reason ? ` (${run.reason})` : ''}`);
    return run?.state === 'success' ? 0 : 1;
  });
}

/** `batuta dags pause|unpause DAG`: only a DAG of the folder (a typo would otherwise pause nothing, silently). */
export async function dagsPause(
  config: CliConfig,
  operators: OperatorRegistry,
  dagId: string,
  paused: boolean,
): Promise<number> {
  checkName('DAG', dagId);
  await findDag(config, operators, dagId);
  return withStore(config, async (store) => {
    await store.setDagPaused(dagId, paused);
    console.log(`${dagId}: ${paused ? 'paused' : 'unpaused'}`);
    return 0;
  });
}

/** `batuta dags cancel RUN`: asks the scheduler driving the run to stop it. */
export async function dagsCancel(config: CliConfig, runId: string): Promise<number> {
  return withStore(config, async (store) => {
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`no run '${runId}' in namespace '${config.namespace}'`);
    if (run.state === 'success' || run.state === 'failed') {
      console.log(`run ${runId} already ended: ${run.state}`);
      return 0;
    }
    if (run.state === 'queued') {
      const ok = await store.applyTransition(runId, {
        run: {
          patch: { state: 'failed', endMs: Date.now(), reason: 'cancelled by user before it started' },
          expectState: 'queued',
        },
      });
      if (ok) {
        console.log(`run ${runId}: cancelled before it started`);
        return 0;
      }
    }
    await store.appendEvent(CONTROL_STREAM, 'cancel', { runId, reason: 'cancelled by user' }, Date.now());
    console.log(`run ${runId}: cancel requested`);
    return 0;
  });
}

/** `batuta dags backfill DAG --from --to …`: plans and queues runs, with a progress bar. */
export async function dagsBackfill(
  config: CliConfig,
  operators: OperatorRegistry,
  dagId: string,
  options: {
    from: string;
    to: string;
    reprocess?: string;
    maxActiveRuns?: string;
    newestFirst?: boolean;
    dryRun?: boolean;
  },
): Promise<number> {
  checkName('DAG', dagId);
  const dag = await findDag(config, operators, dagId);
  const fromMs = Date.parse(options.from);
  const toMs = Date.parse(options.to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs))
    throw new UsageError('--from and --to take ISO dates, e.g. 2026-01-01 or 2026-01-01T04:00Z');
  const reprocess = options.reprocess ?? 'none';
  if (reprocess !== 'none' && reprocess !== 'failed' && reprocess !== 'completed') {
    throw new UsageError(`--reprocess takes none, failed or completed, not '${reprocess}'`);
  }
  const maxActive = options.maxActiveRuns === undefined ? dag.maxActiveRuns : Number(options.maxActiveRuns);
  if (!Number.isInteger(maxActive) || maxActive < 1) throw new UsageError('--max-active-runs takes a whole number ≥ 1');
  return withStore(config, async (store) => {
    const existing = (await store.listRuns({ dagId })).map((r) => ({
      logicalDateMs: r.logicalDateMs,
      state: r.state,
      kind: r.kind,
      runId: r.runId,
    }));
    const plan = planBackfill({ dag, fromMs, toMs, reprocess, existing, newestFirst: options.newestFirst ?? false });
    if (options.dryRun) {
      for (const item of plan.runs)
        console.log(
          `${new Date(item.logicalDateMs).toISOString()}  ${item.action.padEnd(6)}  ${item.runId}  ${item.reason}`,
        );
      for (const item of plan.skipped)
        console.log(`${new Date(item.logicalDateMs).toISOString()}  skip    ${item.reason}`);
      console.log(`dry run: ${plan.runs.length} to run, ${plan.skipped.length} skipped`);
      return 0;
    }
    const pending = [...plan.runs];
    const inFlight = new Set<string>();
    let done = 0;
    let failed = 0;
    const bar = (final = false) => {
      const total = plan.runs.length || 1;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const text = `backfill ${dagId} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${plan.runs.length} done, ${inFlight.size} running, ${failed} failed`;
      process.stdout.write(process.stdout.isTTY && !final ? `\r${text}` : `${text}\n`);
    };
    while (pending.length > 0 || inFlight.size > 0) {
      while (pending.length > 0 && inFlight.size < maxActive) {
        const item = pending.shift()!;
        const now = Date.now();
        await store.createRun({
          runId: item.runId,
          dagId,
          kind: 'backfill',
          state: 'queued',
          logicalDateMs: item.logicalDateMs,
          dataIntervalStartMs: item.dataIntervalStartMs,
          dataIntervalEndMs: item.dataIntervalEndMs,
          conf: resolveParams(dag.params, {}, 'conf', dag.paramsSchema),
          createdMs: now,
        });
        inFlight.add(item.runId);
      }
      for (const runId of [...inFlight]) {
        const run = await store.getRun(runId);
        if (run && (run.state === 'success' || run.state === 'failed')) {
          inFlight.delete(runId);
          done++;
          if (run.state === 'failed') failed++;
        }
      }
      bar();
      if (pending.length > 0 || inFlight.size > 0) await new Promise((r) => setTimeout(r, 250));
    }
    bar(true);
    return failed > 0 ? 1 : 0;
  });
}

/** A run as the JSON of `runs list` and `runs show` (src/json-shapes.ts). */
function runJsonOf(run: DagRunRecord) {
  return {
    runId: run.runId,
    dagId: run.dagId,
    kind: run.kind,
    state: run.state,
    logicalDate: new Date(run.logicalDateMs).toISOString(),
    start: isoOrNull(run.startMs),
    end: isoOrNull(run.endMs),
    durationMs: durationOrNull(run.startMs, run.endMs),
    reason: run.reason ?? null,
  };
}

/** `batuta runs show RUN [--json]`: the task grid of a run. */
export async function runsShow(config: CliConfig, runId: string, options: { json?: boolean } = {}): Promise<number> {
  return withStore(config, async (store) => {
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`no run '${runId}' in namespace '${config.namespace}'`);
    const instances = (await store.getTaskInstances(runId)).sort(
      (a, b) =>
        (a.startMs ?? Infinity) - (b.startMs ?? Infinity) ||
        a.taskId.localeCompare(b.taskId) ||
        a.mapIndex - b.mapIndex,
    );
    const tasks = instances.map((i) => ({
      taskId: i.taskId,
      mapIndex: i.mapIndex,
      state: i.state,
      tryNumber: i.tryNumber,
      start: isoOrNull(i.startMs),
      end: isoOrNull(i.endMs),
      durationMs: durationOrNull(i.startMs, i.endMs),
      worker: i.worker ?? null,
      detail: i.error?.message ?? i.reason ?? null,
    }));
    if (options.json) {
      printJson(runsShowJson, { run: runJsonOf(run), tasks });
      return 0;
    }
    console.log(
      `run ${run.runId}  dag ${run.dagId}  ${run.kind}  ${run.state}  logical ${new Date(run.logicalDateMs).toISOString()}`,
    );
    if (run.reason) console.log(`  ${run.reason}`);
    console.log(
      renderTable(
        ['TASK', 'STATE', 'TRIES', 'DURATION', 'WORKER', 'DETAIL'],
        tasks.map((t) => [
          t.mapIndex >= 0 ? `${t.taskId}#${t.mapIndex}` : t.taskId,
          t.state,
          String(t.tryNumber),
          formatDurationMs(t.durationMs),
          t.worker ?? '',
          t.detail ?? '',
        ]),
      ),
    );
    return 0;
  });
}

/** `batuta runs list [--dag ID] [--state S] [--limit N] [--json]`: newest first. */
export async function runsList(
  config: CliConfig,
  options: { dag?: string; state?: string; limit?: string; json?: boolean },
): Promise<number> {
  const states = options.state?.split(',').map((state) => {
    if (!(RUN_STATES as readonly string[]).includes(state))
      throw new UsageError(`--state takes ${RUN_STATES.join(', ')} (comma-separated), not '${state}'`);
    return state as RunState;
  });
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!/^[0-9]+$/.test(options.limit ?? '50') || !Number.isSafeInteger(limit) || limit < 1)
    throw new UsageError(`--limit takes a whole number ≥ 1, not '${options.limit}'`);
  if (options.dag !== undefined) checkName('DAG', options.dag);
  return withStore(config, async (store) => {
    const runs = (
      await store.listRuns({
        ...(options.dag ? { dagId: options.dag } : {}),
        ...(states ? { states } : {}),
        limit,
      })
    ).map(runJsonOf);
    if (options.json) {
      printJson(runsListJson, { runs });
      return 0;
    }
    console.log(
      renderTable(
        ['STATE', 'KIND', 'LOGICAL DATE', 'START', 'END', 'DURATION', 'RUN'],
        runs.map((r) => [
          r.state,
          r.kind,
          r.logicalDate,
          r.start ?? '',
          r.end ?? '',
          formatDurationMs(r.durationMs),
          r.runId,
        ]),
      ),
    );
    return 0;
  });
}

/** `batuta events publish NAME [--payload JSON | --conf-file PATH]`. */
export async function eventsPublish(
  config: CliConfig,
  name: string,
  payload: { text?: string; file?: string },
): Promise<number> {
  checkName('event name', name);
  const value = await readJsonObject({
    text: payload.text,
    file: payload.file,
    flag: '--payload',
    limits: confLimits(config),
  });
  return withStore(config, async (store) => {
    const id = await store.appendEvent(eventStream(name), 'event', value, Date.now());
    console.log(`published ${name} ${id}`);
    return 0;
  });
}
