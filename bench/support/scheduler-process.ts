// A scheduler daemon process for the scheduler benchmark: Redis state store, local executor,
// the DAG folder given as argv[2]. Reads its figures from the daemon's structured log (the `run_created`
// event of each scheduled run carries its lateness) into a bounded histogram, counting only the runs of
// fires from the window start the parent sends; on SIGTERM it stops and sends the histogram.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  DagFolder,
  RedisStateStore,
  RunCoordinator,
  SchedulerDaemon,
  type SchedulerLogEvent,
} from '@batuta/scheduler';
import { LatencyHistogram } from '@batuta/scheduler/internals';

/** Fires whose slowest confirmation is kept (the oldest are dropped beyond this). */
const KEPT_FIRES = 64;

const [dir, url, namespace, id] = process.argv.slice(2) as [string, string, string, string];
const operators = createOperatorRegistry();
const store = await RedisStateStore.connect({ url, namespace });
const folder = new DagFolder(dir, operators);
await folder.scan();
const executor = new LocalExecutor({
  capacity: { cpu: 1e6, memoryMb: 1e9, gpu: 0, custom: {} },
  invoke: createTaskInvoker({ resolveDag: (dagId) => folder.dags.get(dagId), store, operators }),
});
const coordinator = new RunCoordinator({ store, executor });

let windowStartMs = Number.POSITIVE_INFINITY;
process.on('message', (message) => {
  const start = (message as { windowStartMs?: unknown }).windowStartMs;
  if (typeof start === 'number') windowStartMs = start;
});
/** Per scheduled run this scheduler created: ms from fire time until the store confirmed the creation. */
const confirmed = new LatencyHistogram();
const slowestPerFire = new Map<number, number>();

function observe(event: SchedulerLogEvent): void {
  if (event.event === 'fire' && process.env.SHOW_FIRES) console.log(JSON.stringify({ schedulerId: id, ...event }));
  if (event.event !== 'run_created' || event.kind !== 'scheduled') return;
  const { logicalDateMs, confirmedLatenessMs } = event;
  if (typeof logicalDateMs !== 'number' || typeof confirmedLatenessMs !== 'number') return;
  if (logicalDateMs < windowStartMs) return;
  confirmed.record(confirmedLatenessMs);
  slowestPerFire.set(logicalDateMs, Math.max(slowestPerFire.get(logicalDateMs) ?? 0, confirmedLatenessMs));
  if (slowestPerFire.size > KEPT_FIRES) slowestPerFire.delete(slowestPerFire.keys().next().value!);
}

const daemon = new SchedulerDaemon({
  store,
  coordinator,
  dags: () => folder.dags,
  schedulerId: id,
  pollMs: 250,
  log: observe,
});
await daemon.start();
process.send?.({ ready: true });
process.once('SIGTERM', async () => {
  await daemon.stop();
  await coordinator.close();
  await store.close();
  process.send?.({ confirmed: confirmed.snapshot(), slowestPerFire: [...slowestPerFire] });
  process.exit(0);
});
