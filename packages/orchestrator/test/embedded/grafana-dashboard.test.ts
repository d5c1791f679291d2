// The Grafana dashboard in docs/ queries only series the metrics modules register, so a renamed metric
// cannot leave a panel silently empty.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SchedulerMetrics } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { registerPoolMetrics, workerMetrics } from '../../src/index.js';

const dashboard = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../../docs/grafana-dashboard.json', import.meta.url)), 'utf8'),
) as { panels: Array<{ targets: Array<{ expr: string }> }> };

describe('the Grafana dashboard', () => {
  it('names only series that Batuta registers', async () => {
    const metrics = new SchedulerMetrics({ processMetrics: false });
    registerPoolMetrics(metrics.registry, { read: async () => [] });
    workerMetrics(metrics.registry, 'default');
    const known = new Set(metrics.registry.getMetricsAsArray().map((metric) => metric.name));
    // The web server's two series (packages/web/src/routes/metrics.ts).
    known.add('batuta_http_requests_total').add('batuta_http_request_duration_seconds');
    const used = new Set(
      dashboard.panels.flatMap((panel) =>
        panel.targets.flatMap((target) =>
          [...target.expr.matchAll(/\b(batuta_[a-z_]+)/g)].map((match) =>
            match[1]!.replace(/_(bucket|count|sum)$/, ''),
          ),
        ),
      ),
    );
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(known, name).toContain(name);
  });
});
