// The LocalExecutor passes the Executor contract.
import { LocalExecutor } from '../../src/local/local-executor.js';
import { executorContract } from '../contracts/executor.contract.js';
import { until } from './harness.js';

executorContract('local', async ({ capacity, invoke }) => {
  const executor = new LocalExecutor({ capacity, invoke });
  return {
    executor,
    queued: (count) => until(() => executor.queuedCount() >= count, `${count} queued attempts`),
  };
});
