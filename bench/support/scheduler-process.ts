// A scheduler daemon process for the scheduler benchmark: Redis state store, local executor,
// the DAG folder given as argv[2]. Stops on SIGTERM and prints its lateness samples as JSON.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  DagFolder,
  RedisStateStore,
  RunCoordinator,
  SchedulerDaemon,
} from '@batuta/scheduler';

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
const fires: unknown[] = [];
const daemon = new SchedulerDaemon({
  store,
  coordinator,
  dags: () => folder.dags,
  schedulerId: id,
  pollMs: 250,
  log: (event) => {
    if (event.event === 'fire') fires.push(event);
  },
});
await daemon.start();
process.send?.({ ready: true });
process.once('SIGTERM', async () => {
  await daemon.stop();
  await coordinator.close();
  await store.close();
  process.send?.({ lateness: daemon.lateness, confirmed: daemon.confirmedLateness, fires });
  process.exit(0);
});
