// Prometheus metrics of the web server at GET /metrics (prom-client): requests by route and status and a
// latency histogram by route. The route is the matched pattern (`/api/runs/{runId}`), never the raw path,
// so ids do not explode the series. Public like /api/health: it holds no DAG, run or user names.
import type { Env, Hono } from 'hono';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The web server's metrics; pass one to share its registry with other metrics of the process. */
export interface WebMetrics {
  registry: Registry;
}

/** Creates the web server's registry (with the Node process metrics) . */
export function createWebMetrics(options: { registry?: Registry; processMetrics?: boolean } = {}): WebMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'batuta_web_' });
  return { registry };
}

const routeOf = (pattern: string): string => pattern.replace(/:([A-Za-z]+)/g, '{$1}');

/** Counts and times every request, and answers GET /metrics. */
export function installMetrics<E extends Env>(app: Hono<E>, given?: WebMetrics): WebMetrics {
  const metrics = given ?? createWebMetrics();
  const requests = new Counter({
    name: 'batuta_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [metrics.registry],
  });
  const duration = new Histogram({
    name: 'batuta_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (to its first byte for a stream), by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [metrics.registry],
  });
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // Unmatched paths share one label, so scanning for URLs cannot grow the series.
    const matched = c.req.routePath;
    const route = c.res.status === 404 && (matched === '*' || matched === '/*') ? 'unmatched' : routeOf(matched);
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    duration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
  });
  app.get('/metrics', async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': metrics.registry.contentType });
  });
  return metrics;
}
