export { DEFAULT_DURATION_BUCKETS, PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.js';
export {
  ResiliencePrometheusMetrics,
  ResiliencePrometheusModule,
  type ResiliencePrometheusOptions,
} from './resilience-prometheus.module.js';
