/** Prometheus metrics (MON-01): one registry per process, exposed at /metrics to allowed addresses. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the malware stages report (MAL-02 … MAL-07): verdicts, scan time, 無害化 results. */
export interface MalwareMetrics {
  verdict(result: string): void;
  scanSeconds(seconds: number): void;
  sanitized(result: string): void;
}

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status' | 'zone'>;
  httpErrors: Counter<'code' | 'zone'>;
  jobsByState: Gauge<'state'>;
  malware: MalwareMetrics;
}

export interface MetricSources {
  jobDepth: () => Promise<Record<string, number>>;
  /** Versions waiting for their first scan (state held, no decision yet). */
  scanBacklog?: () => Promise<number>;
  /** Hours since the engine's signatures were published, from the last check; null = unknown. */
  signatureAgeHours?: () => number | null;
}

export function createMetrics(sources: MetricSources | (() => Promise<Record<string, number>>)): Metrics {
  const src: MetricSources = typeof sources === 'function' ? { jobDepth: sources } : sources;
  const jobDepth = src.jobDepth;
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
  const verdicts = new Counter({
    name: 'kura_scan_verdicts_total',
    help: 'Scan verdicts by result (clean, infected, error)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const scanDuration = new Histogram({
    name: 'kura_scan_duration_seconds',
    help: 'Time of one scan (decrypt + engine)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const sanitized = new Counter({
    name: 'kura_sanitize_results_total',
    help: '無害化 results (sanitised, sanitised_with_loss, failed, blocked)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'kura_scan_backlog',
    help: 'File versions waiting for their scan',
    registers: [registry],
    async collect() {
      try {
        if (src.scanBacklog) this.set(await src.scanBacklog());
      } catch {
        // database down: readiness reports it
      }
    },
  });
  new Gauge({
    name: 'kura_scanner_signature_age_hours',
    help: 'Age of the malware signatures at the last check (alert past 24 h)',
    registers: [registry],
    collect() {
      const age = src.signatureAgeHours?.();
      if (age !== null && age !== undefined) this.set(age);
    },
  });
  const malware: MalwareMetrics = {
    verdict: (result) => verdicts.inc({ result }),
    scanSeconds: (s) => scanDuration.observe(s),
    sanitized: (result) => sanitized.inc({ result }),
  };
  return { registry, httpDuration, httpErrors, jobsByState, malware };
}
