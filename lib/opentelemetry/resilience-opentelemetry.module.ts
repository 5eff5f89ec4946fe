import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { OpenTelemetryMetrics, type OpenTelemetryMetricsOptions } from './opentelemetry-metrics.js';

const OPENTELEMETRY_OPTIONS = Symbol('nest-resilience:opentelemetry-options');

/** The application's instruments on the `nest-resilience` meter, observed while it runs. */
@Injectable()
export class ResilienceOpenTelemetryMetrics implements OnApplicationShutdown {
  /** The instruments; `close()` is called at shutdown. */
  readonly metrics: OpenTelemetryMetrics;

  // Created with the other providers, before any init hook: the pipelines built at bootstrap measure their calls.
  constructor(resilience: ResilienceRegistry, @Inject(OPENTELEMETRY_OPTIONS) options: OpenTelemetryMetricsOptions) {
    this.metrics = new OpenTelemetryMetrics(resilience, options);
  }

  onApplicationShutdown(): void {
    this.metrics.close();
  }
}

/**
 * Reports nest-resilience's metrics through `@opentelemetry/api` (meter `nest-resilience`): import it beside
 * `ResilienceModule`. It depends on the API only; your SDK (`@opentelemetry/sdk-node` or `sdk-metrics`) decides
 * where they go. Importing it turns call metrics on. Give it the `ResilienceMetricProducer` registered on your
 * reader (`metricProducer`) and the call duration costs about what the Prometheus exporter's does.
 *
 * @example
 * ```ts
 * imports: [ResilienceModule.forRoot(), ResilienceOpenTelemetryModule.forRoot({ metricProducer: resilienceMetrics })]
 * ```
 */
@Module({})
export class ResilienceOpenTelemetryModule {
  /**
   * Creates the instruments on `options.meterProvider` (default: the global meter provider), the call duration in
   * `options.metricProducer` when given. Invalid options fail when the application starts.
   */
  static forRoot(options: OpenTelemetryMetricsOptions = {}): DynamicModule {
    return {
      module: ResilienceOpenTelemetryModule,
      providers: [{ provide: OPENTELEMETRY_OPTIONS, useValue: options }, ResilienceOpenTelemetryMetrics],
      exports: [ResilienceOpenTelemetryMetrics],
    };
  }
}
