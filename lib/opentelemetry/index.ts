export { METER_NAME, OpenTelemetryMetrics, type OpenTelemetryMetricsOptions } from './opentelemetry-metrics.js';
export { ResilienceMetricProducer, type ResilienceMetricProducerOptions } from './resilience-metric-producer.js';
export { ResilienceOpenTelemetryMetrics, ResilienceOpenTelemetryModule } from './resilience-opentelemetry.module.js';
