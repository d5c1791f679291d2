// `batuta serve MODEL… --models FILE`: online predictions. Each model's versions are loaded from the models
// file, gated (at start and every --gate-every; a version failing its gate never answers and a
// `gate_failed` line is logged), and routed by the model's rollout in Redis (the one `batuta rollout`
// drives), behind the tokens of `batuta tokens`. One JSON line per event; SIGTERM or SIGINT stops it.
import { ModelServer, RolloutStore } from '@batuta/ml-tasks';
import { AuthStore, createServingListener, startWebServer } from '@batuta/web';
import { NotFoundError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { loadServedModel, readModelsFile } from '../models-file.js';
import { connectRedis } from '../redis-client.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutdownWithin } from '../shutdown-deadline.js';
import { jsonLog } from './scheduler.js';
import { untilSignal } from './webserver.js';

/** How often the rollout figures counted in memory are written (at most this much is lost on a crash). */
const FIGURES_FLUSH_MS = 200;

export interface ServeOptions {
  modelsFile: string;
  port: number;
  host: string;
  /** How often every version's validity gate runs again (the first run is at start). */
  gateEveryMs: number;
  shutdownTimeoutMs?: number;
}

export async function serveCommand(config: CliConfig, modelNames: string[], options: ServeOptions): Promise<number> {
  const file = readModelsFile(options.modelsFile);
  for (const name of modelNames) {
    if (!Object.hasOwn(file.models, name)) {
      throw new NotFoundError(
        `no model '${name}' in ${options.modelsFile} (models: ${Object.keys(file.models).join(', ') || 'none'})`,
      );
    }
  }
  const loaded = await Promise.all(
    [...new Set(modelNames)].map((name) => loadServedModel(options.modelsFile, name, file.models[name]!)),
  );
  const redis = await connectRedis(config, { retry: true });
  const servers = new Map<string, ModelServer>();
  for (const model of loaded) {
    const server = new ModelServer({
      ...model,
      rollouts: new RolloutStore(redis, { model: model.name, namespace: config.namespace }),
      // The figures go to Redis in one write per interval, not one awaited round trip per request.
      figuresFlushMs: FIGURES_FLUSH_MS,
      onEvent: (event) =>
        jsonLog({
          ...event,
          level: event.event === 'gate_failed' || event.event === 'served_fallback' ? 'warn' : 'info',
        }),
    });
    servers.set(model.name, server);
  }
  const checkGates = () => {
    for (const server of servers.values()) {
      try {
        server.checkGates();
      } catch (error) {
        jsonLog({ event: 'gate_error', level: 'error', model: server.name, message: String(error) });
      }
    }
  };
  checkGates();
  for (const server of servers.values()) {
    const status = await server.status();
    jsonLog({
      event: 'model_loaded',
      model: server.name,
      versions: status.versions.map((version) => ({
        version: version.version,
        servable: version.servable,
        ...(version.gate ? { metrics: version.gate.metrics } : {}),
      })),
      rollout: status.rollout ?? null,
    });
  }
  const auth = new AuthStore(redis, { namespace: config.namespace });
  const app = createServingListener({
    models: servers,
    auth,
    onError: (error) => jsonLog({ event: 'request_failed', level: 'error', message: String(error) }),
  });
  const server = await startWebServer(app, { port: options.port, host: options.host });
  jsonLog({
    event: 'serve_started',
    url: server.url,
    models: [...servers.keys()],
    namespace: config.namespace,
    gateEveryMs: options.gateEveryMs,
  });
  const gates = setInterval(checkGates, options.gateEveryMs);
  await untilSignal();
  clearInterval(gates);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  jsonLog({ event: 'serve_stopping', shutdownTimeoutMs });
  return shutdownWithin(
    'serve',
    shutdownTimeoutMs,
    async () => {
      await server.close();
      await Promise.all([...servers.values()].map((model) => model.close()));
      redis.disconnect();
    },
    jsonLog,
  );
}
