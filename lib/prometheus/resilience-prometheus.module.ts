import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { register, type Registry } from 'prom-client';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.js';

/** Options of `ResiliencePrometheusModule.forRoot()`. */
export interface ResiliencePrometheusOptions extends PrometheusMetricsOptions {
  /**
   * The prom-client registry to register into. Default: prom-client's global `register`, the one
   * `@willsoto/nestjs-prometheus` serves on `/metrics`.
   */
  registry?: Registry;
}

const PROMETHEUS_OPTIONS = Symbol('nest-resilience:prometheus-options');

/** The application's instruments, registered while it runs and removed when it shuts down. */
@Injectable()
export class ResiliencePrometheusMetrics implements OnApplicationShutdown {
  /** The instruments; `close()` is called at shutdown. */
  readonly metrics: PrometheusMetrics;

  // Created with the other providers, before any init hook: the pipelines built at bootstrap measure their calls.
  constructor(resilience: ResilienceRegistry, @Inject(PROMETHEUS_OPTIONS) options: ResiliencePrometheusOptions) {
    const { registry = register, ...rest } = options;
    this.metrics = new PrometheusMetrics(resilience, registry, rest);
  }

  onApplicationShutdown(): void {
    this.metrics.close();
  }
}

/**
 * Exposes nest-resilience's metrics to Prometheus: import it beside `ResilienceModule`. It registers into the
 * prom-client registry you give (default: the global one) and never calls `collectDefaultMetrics`; serve the
 * registry yourself or with `@willsoto/nestjs-prometheus`. Importing it turns call metrics on.
 *
 * @example
 * ```ts
 * imports: [ResilienceModule.forRoot(), PrometheusModule.register(), ResiliencePrometheusModule.forRoot()]
 * ```
 */
@Module({})
export class ResiliencePrometheusModule {
  /** Registers the instruments into `options.registry` (default prom-client's global `register`). */
  static forRoot(options: ResiliencePrometheusOptions = {}): DynamicModule {
    return {
      module: ResiliencePrometheusModule,
      providers: [{ provide: PROMETHEUS_OPTIONS, useValue: options }, ResiliencePrometheusMetrics],
      exports: [ResiliencePrometheusMetrics],
    };
  }
}
