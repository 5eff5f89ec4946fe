import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { MemoryRateLimitStore } from '../core/rate-limit/memory-rate-limit.store.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { ResilienceModuleOptions } from './resilience-module-options.interface.js';
import { ControllerPipelines } from './controller-pipelines.js';
import { ControllerRateLimits } from './controller-rate-limits.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { PolicyResolver } from './policy-resolver.js';
import { ResilienceExplorer } from './resilience.explorer.js';
import { ResilienceInterceptor } from './resilience.interceptor.js';
import {
  RESILIENCE_MODULE_OPTIONS,
  RESILIENCE_OPTIONS_TYPE,
  ResilienceConfigurableModule,
} from './resilience.module-definition.js';

/**
 * Import once, in the root module: `ResilienceModule.forRoot({ ... })` or `forRootAsync({ imports, inject,
 * useFactory })`. Global by default (`isGlobal: false` to opt out). Wraps decorated provider methods at bootstrap
 * and installs a global interceptor for decorated controller handlers; inject `ResilienceEvents` to observe and
 * `ResilienceRegistry` to read and control circuit breakers.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: ResilienceEvents, useFactory: () => new ResilienceEvents() },
    {
      provide: ResilienceRegistry,
      useFactory: (events: ResilienceEvents, options: ResilienceModuleOptions) =>
        new ResilienceRegistry(events, options.store ?? new MemoryRateLimitStore()),
      inject: [ResilienceEvents, RESILIENCE_MODULE_OPTIONS],
    },
    PolicyResolver,
    ControllerPipelines,
    ControllerRateLimits,
    ResilienceExplorer,
    RateLimitGuard,
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    ResilienceInterceptor,
    { provide: APP_INTERCEPTOR, useExisting: ResilienceInterceptor },
  ],
  exports: [
    ResilienceEvents,
    ResilienceRegistry,
    ControllerPipelines,
    ControllerRateLimits,
    ResilienceInterceptor,
    RateLimitGuard,
    RESILIENCE_MODULE_OPTIONS,
  ],
})
export class ResilienceModule extends ResilienceConfigurableModule implements OnApplicationShutdown {
  constructor(private readonly registry: ResilienceRegistry) {
    super();
  }

  /** Closes the connections the rate-limit store opened itself (a Redis client given by the user stays open). */
  async onApplicationShutdown(): Promise<void> {
    await this.registry.store.close?.();
  }

  /** Registers the module with `options` (all optional: `forRoot()` uses the library defaults). */
  static override forRoot(options: typeof RESILIENCE_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
