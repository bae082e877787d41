import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  policyDecisions: Counter<'action' | 'effect'>;
}

/** One registry per app instance (tests build several in one process). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    policyDecisions: new Counter({
      name: 'policy_decisions_total',
      help: 'Policy decisions by action and effect (no identities)',
      labelNames: ['action', 'effect'],
      registers: [registry],
    }),
  };
}
