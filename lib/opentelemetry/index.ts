export { METER_NAME, OpenTelemetryMetrics, type OpenTelemetryMetricsOptions } from './opentelemetry-metrics.js';
export { ResilienceOpenTelemetryMetrics, ResilienceOpenTelemetryModule } from './resilience-opentelemetry.module.js';
