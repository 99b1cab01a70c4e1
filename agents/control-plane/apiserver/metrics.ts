// Prometheus metrics of the API server (a registry of its own, served at /metrics), named after
// upstream's so that existing dashboards read them.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, group, resource and HTTP response code.',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, group and resource (watches excluded).',
    labelNames: ['verb', 'group', 'resource'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Number of open watch requests, by resource as upstream labels them.',
    labelNames: ['verb', 'group', 'resource', 'subresource'] as const,
    registers: [this.registry],
  });
  readonly storageRevision = new Gauge({ name: 'hawser_storage_revision', help: 'Current revision of the store.', registers: [this.registry] });
  readonly storageCompacted = new Gauge({
    name: 'hawser_storage_compacted_revision',
    help: 'Revision the store was last compacted to.',
    registers: [this.registry],
  });
  readonly storageBytes = new Gauge({
    name: 'apiserver_storage_size_bytes',
    help: 'Size of the storage database file (and WAL) in bytes.',
    registers: [this.registry],
  });
}
