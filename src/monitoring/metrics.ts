/** Prometheus metrics (MON-01): one registry per process, exposed at /metrics to allowed addresses. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status' | 'zone'>;
  httpErrors: Counter<'code' | 'zone'>;
  jobsByState: Gauge<'state'>;
}

export function createMetrics(jobDepth: () => Promise<Record<string, number>>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kura_' });
  const httpDuration = new Histogram({
    name: 'kura_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status', 'zone'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpErrors = new Counter({
    name: 'kura_http_errors_total',
    help: 'HTTP error responses by error code',
    labelNames: ['code', 'zone'] as const,
    registers: [registry],
  });
  const jobsByState = new Gauge({
    name: 'kura_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      try {
        const depth = await jobDepth();
        for (const [state, n] of Object.entries(depth)) this.set({ state }, n);
      } catch {
        // database down: readiness reports it; metrics still answer
      }
    },
  });
  return { registry, httpDuration, httpErrors, jobsByState };
}
