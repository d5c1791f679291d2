// `batuta webserver`: the REST API (and the UI the web package ships) over the Redis store, with the
// accounts of `batuta users` / `batuta tokens`. It reads the DAG folder with the scheduler's own scan and
// rescans it on a timer, so it shows the DAGs the schedulers run. One JSON line per event on stdout;
// SIGTERM or SIGINT stops it cleanly.
import { PoolStatusReader } from '@batuta/orchestrator';
import type { OperatorRegistry } from '@batuta/scheduler';
import { AuthStore, createWebApp, type Role, startWebServer } from '@batuta/web';
import { Redis } from 'ioredis';
import type { CliConfig } from '../config.js';
import { connectRedis } from '../redis-client.js';
import { redisOptionsOf } from '../redis-options.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutdownWithin } from '../shutdown-deadline.js';
import { loadFolder, openLogStore, openStoreWaiting, STARTUP_WAIT_MS } from '../store.js';
import { jsonLog, poolsOf, rescanFolder } from './scheduler.js';

/** How often the DAG folder is scanned again for changed files. */
const RESCAN_MS = 5_000;

export interface WebserverOptions {
  port: number;
  host: string;
  /** Requests without credentials act with this role; none (the default) are refused. */
  anonymousRole?: Role;
  /** Session cookies without `Secure`, for plain-HTTP development (default: Secure). */
  insecureCookies?: boolean;
  shutdownTimeoutMs?: number;
}

/** Resolves with the exit code once a signal has stopped the server (or never, until one comes). */
export async function webserverCommand(
  config: CliConfig,
  operators: OperatorRegistry,
  options: WebserverOptions,
): Promise<number> {
  const store = await openStoreWaiting(config, STARTUP_WAIT_MS, jsonLog);
  const redis = await connectRedis(config, { retry: true });
  const folder = await loadFolder(config, operators);
  const auth = new AuthStore(redis, { namespace: config.namespace });
  // Task logs through the configured log store; pool figures through BullMQ (its own connection).
  const logStore = openLogStore(config);
  const poolConnection = new Redis(config.redisUrl, { ...redisOptionsOf(config), maxRetriesPerRequest: null });
  const pools = new PoolStatusReader({
    connection: poolConnection,
    namespace: config.namespace,
    pools: await poolsOf(config),
  });
  const app = createWebApp({
    store,
    auth,
    dags: () => folder.dags,
    logStore,
    pools,
    predictions: { redis, namespace: config.namespace },
    ...(options.anonymousRole ? { anonymousRole: options.anonymousRole } : {}),
    secureCookies: !options.insecureCookies,
    onError: (error) => jsonLog({ event: 'request_failed', level: 'error', message: String(error) }),
  });
  const server = await startWebServer(app, { port: options.port, host: options.host });
  jsonLog({
    event: 'webserver_started',
    url: server.url,
    namespace: config.namespace,
    folder: folder.dir,
    dagIds: [...folder.dags.keys()],
    anonymousRole: options.anonymousRole ?? null,
  });
  let scanning = Promise.resolve();
  const rescan = setInterval(() => {
    scanning = scanning
      .then(() => rescanFolder(folder))
      .catch((error: unknown) => jsonLog({ event: 'dag_folder_failed', level: 'error', message: String(error) }));
  }, RESCAN_MS);
  await untilSignal();
  clearInterval(rescan);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  jsonLog({ event: 'webserver_stopping', shutdownTimeoutMs });
  return shutdownWithin(
    'webserver',
    shutdownTimeoutMs,
    async () => {
      await server.close();
      await scanning;
      await store.close();
      await logStore.close();
      await pools.close();
      poolConnection.disconnect();
      redis.disconnect();
    },
    jsonLog,
  );
}

/** Resolves at the first SIGTERM or SIGINT, logging which. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      jsonLog({ event: 'signal', signal });
      resolve(signal);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
}
