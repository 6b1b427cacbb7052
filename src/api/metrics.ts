import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  observe(operation: string, status: number, seconds: number): void;
}

/** A registry of this gateway's own (no process-global default registry). */
export function createApiMetrics(countIdentities: () => Promise<number>): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetgate_' });
  const requests = new Counter({
    name: 'fleetgate_api_requests_total',
    help: 'Management API requests by operation and status',
    labelNames: ['operation', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'fleetgate_api_request_duration_seconds',
    help: 'Management API request duration by operation',
    labelNames: ['operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'fleetgate_identities',
    help: 'Identities in the registry',
    registers: [registry],
    async collect() {
      this.set(await countIdentities());
    },
  });
  return {
    registry,
    observe(operation, status, seconds) {
      requests.inc({ operation, status });
      duration.observe({ operation }, seconds);
    },
  };
}
