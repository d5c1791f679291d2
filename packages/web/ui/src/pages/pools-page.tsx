// The worker pools: what one worker offers, how many workers are alive (and how many the autoscaler would
// want), the jobs running and what they were admitted with, and the queue depth. Pool figures are not in
// the store's change stream, so this page reads them again every few seconds while visible.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Me } from '../api.js';
import { listPools, type PoolStatus, type Resources } from '../operations-api.js';

const REFRESH_MS = 5_000;

const formatCapacity = (r: Resources) =>
  [
    `cpu ${r.cpu}`,
    `${r.memoryMb} MB`,
    ...(r.gpu > 0 ? [`gpu ${r.gpu}`] : []),
    ...Object.entries(r.custom).map(([name, n]) => `${name} ${n}`),
  ].join(' · ');

/** A figure out of a total, with a meter for the eye (the text carries the figure for everyone). */
function Usage({ used, total, label }: { used: number; total: number; label: string }) {
  const share = total > 0 ? Math.min(1, used / total) : 0;
  return (
    <span class="usage">
      <meter min={0} max={1} value={share} aria-label={label} /> {used} / {total}
    </span>
  );
}

export function PoolsPage(_: { user: Me }) {
  const [pools, setPools] = useState<PoolStatus[]>();
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      setPools((await listPools()).pools);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, []);

  useEffect(() => {
    document.title = 'Pools · Batuta';
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  return (
    <section aria-labelledby="pools-title">
      <h1 id="pools-title">Pools and workers</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!pools && !error && <p aria-busy="true">Loading…</p>}
      {pools && pools.length === 0 && <p>No worker pools: tasks run in the scheduler's embedded executor.</p>}
      {pools && pools.length > 0 && (
        <table class="list" data-testid="pools">
          <caption class="visually-hidden">Worker pools</caption>
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col">Per worker</th>
              <th scope="col">Workers alive</th>
              <th scope="col">CPU in use</th>
              <th scope="col">Memory in use</th>
              <th scope="col">Running</th>
              <th scope="col">Queued</th>
              <th scope="col">Delayed</th>
            </tr>
          </thead>
          <tbody>
            {pools.map((pool) => {
              const workers = pool.workersAlive;
              return (
                <tr key={pool.pool} data-testid={`pool-${pool.pool}`}>
                  <th scope="row">{pool.pool}</th>
                  <td>{formatCapacity(pool.capacity)}</td>
                  <td>
                    {workers}{' '}
                    <span class="muted">
                      (min {pool.minWorkers}, max {pool.maxWorkers}, wanted {pool.desiredWorkers})
                    </span>
                  </td>
                  <td>
                    <Usage
                      used={pool.admitted.cpu}
                      total={pool.capacity.cpu * workers}
                      label={`CPU in use in ${pool.pool}`}
                    />
                  </td>
                  <td>
                    <Usage
                      used={pool.admitted.memoryMb}
                      total={pool.capacity.memoryMb * workers}
                      label={`Memory in use in ${pool.pool}`}
                    />
                  </td>
                  <td>{pool.active}</td>
                  <td data-testid={`pool-${pool.pool}-waiting`}>{pool.waiting}</td>
                  <td>{pool.delayed}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
