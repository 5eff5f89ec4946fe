import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule, ModuleRef } from '@nestjs/core';
import type { BreakerCoordination } from '../../core/circuit-breaker/circuit-coordinator.interface.js';
import { ResilienceEvents } from '../../core/events/resilience-events.js';
import { MemoryRateLimitStore } from '../../core/rate-limit/memory-rate-limit.store.js';
import { ResilienceRegistry } from '../../core/registry/resilience-registry.js';
import type { ResilienceModuleOptions } from './resilience-module.options.js';
import { validateModuleOptions } from './module-options.validator.js';
import { PipelineFactory } from '../pipeline/pipeline.factory.js';
import { ResilienceExplorer } from '../explorer/resilience.explorer.js';
import { ResilienceExceptionFilter } from '../errors/resilience-exception.filter.js';
import { ResilientHandlers } from '../handlers/resilient-handlers.js';
import { GlobalRateLimitGuard } from '../handlers/rate-limit.guard.js';
import { ResilienceService } from '../service/resilience.service.js';
import { LoadShedderState } from '../../core/load-shedding/load-shedder.state.js';
import { LOAD_SHEDDING_PROVIDERS } from './load-shedding.providers.js';
import { RESILIENCE_MODULE_OPTIONS } from '../options/resilience-module.token.js';
import { RESILIENCE_OPTIONS_TYPE, ResilienceConfigurableModule } from './resilience.module-definition.js';

/**
 * Import once, in the root module: `ResilienceModule.forRoot({ ... })` or `forRootAsync({ imports, inject,
 * useFactory })`. Global by default (`isGlobal: false` to opt out). At bootstrap it validates every decorator,
 * compiles the policies of handlers (applied per request by the `ResilienceInterceptor` and the rate-limit guards
 * the decorators attach) and wraps decorated provider methods. A global exception filter answers resilience errors
 * that reach an undecorated handler from a decorated service. Inject `ResilienceEvents` to observe and
 * `ResilienceRegistry` to read and control circuit breakers.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: ResilienceEvents, useFactory: () => new ResilienceEvents() },
    {
      provide: ResilienceRegistry,
      // The first provider to read the options: a factory returning nothing, or a store that is not one, stops here.
      useFactory: (events: ResilienceEvents, options: ResilienceModuleOptions) => {
        validateModuleOptions(options);
        const registry = new ResilienceRegistry(
          events,
          options.store ?? new MemoryRateLimitStore(),
          coordinationOf(options),
        );
        if (options.metrics === true || options.metrics === 'true') registry.targets.enable();
        return registry;
      },
      inject: [ResilienceEvents, RESILIENCE_MODULE_OPTIONS],
    },
    PipelineFactory,
    ResilientHandlers,
    ResilienceExplorer,
    ResilienceService,
    { provide: APP_FILTER, useClass: ResilienceExceptionFilter },
    {
      // Only with `globalRateLimits`: Nest skips an APP_GUARD whose factory returns null, so other apps run no guard.
      provide: APP_GUARD,
      useFactory: (options: ResilienceModuleOptions, moduleRef: ModuleRef) =>
        options.globalRateLimits?.length ? new GlobalRateLimitGuard(moduleRef) : null,
      inject: [RESILIENCE_MODULE_OPTIONS, ModuleRef],
    },
    ...LOAD_SHEDDING_PROVIDERS,
  ],
  exports: [ResilienceEvents, ResilienceRegistry, RESILIENCE_MODULE_OPTIONS, ResilienceService, LoadShedderState],
})
export class ResilienceModule extends ResilienceConfigurableModule implements OnApplicationShutdown {
  constructor(
    private readonly registry: ResilienceRegistry,
    @Inject(LoadShedderState) private readonly loadShedder: LoadShedderState | null,
  ) {
    super();
  }

  /** Releases what the store and the coordination opened for this app (a Redis client given by the user stays open). */
  async onApplicationShutdown(): Promise<void> {
    this.loadShedder?.close();
    await this.registry.close();
  }

  /** Registers the module with `options` (all optional: `forRoot()` uses the library defaults). */
  static override forRoot(options: typeof RESILIENCE_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}

/** The `coordination` option, else the store when it can coordinate (one Redis object may serve both). */
function coordinationOf(options: ResilienceModuleOptions): BreakerCoordination | undefined {
  if (options.coordination !== undefined) return options.coordination;
  const store = options.store as Partial<BreakerCoordination> | undefined;
  return store?.coordinator === undefined ? undefined : (store as BreakerCoordination);
}
