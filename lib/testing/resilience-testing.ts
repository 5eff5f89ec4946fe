import { ModuleRef } from '@nestjs/core';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { RESILIENCE_MODULE_OPTIONS } from '../nest/options/resilience-module.token.js';
import type { ResilienceModuleOptions } from '../nest/module/resilience-module.options.js';
import { PipelineFactory } from '../nest/pipeline/pipeline.factory.js';
import type { ResilienceTestingOptions } from './testing.options.js';
import { TestingPipelineFactory } from './testing-pipeline.factory.js';

/** Sets up a Nest testing module for deterministic resilience tests. */
export const ResilienceTesting = {
  /**
   * Prepares `Test.createTestingModule(...)` (before `compile()`): retries without jitter (exact timings under fake
   * timers) and policies that `ResilienceTestKit` can switch off and on. Returns the builder.
   *
   * @example
   * const builder = Test.createTestingModule({ imports: [AppModule] });
   * const moduleRef = await ResilienceTesting.prepare(builder).compile();
   */
  prepare(builder: TestingModuleBuilder, options: ResilienceTestingOptions = {}): TestingModuleBuilder {
    return builder.overrideProvider(PipelineFactory).useFactory({
      factory: (
        moduleOptions: ResilienceModuleOptions,
        events: ResilienceEvents,
        registry: ResilienceRegistry,
        moduleRef: ModuleRef,
      ) => new TestingPipelineFactory(moduleOptions, events, registry, moduleRef, options),
      inject: [RESILIENCE_MODULE_OPTIONS, ResilienceEvents, ResilienceRegistry, ModuleRef],
    });
  },
};
