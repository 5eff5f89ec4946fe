import type { Provider } from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { ResilienceEvents } from '../../core/events/resilience-events.js';
import { LoadShedderState } from '../../core/load-shedding/load-shedder.state.js';
import {
  DEFAULT_LOAD_SHEDDING_OPTIONS,
  validateLoadSheddingOptions,
} from '../../core/load-shedding/load-shedding.options.js';
import { ProcessLoadSampler } from '../../core/load-shedding/process-load.sampler.js';
import { OptionsValidator } from '../../core/validation/options.validator.js';
import { withoutUndefined } from '../../core/validation/without-undefined.js';
import { LoadSheddingGuard } from '../handlers/load-shedding.guard.js';
import { PipelineFactory } from '../pipeline/pipeline.factory.js';
import { RESILIENCE_MODULE_OPTIONS } from '../options/resilience-module.token.js';
import type { ResilienceModuleOptions } from './resilience-module.options.js';
import { validateModuleOptions } from './module-options.validator.js';

/**
 * The load shedder (`null` when the option `loadShedding` is off: nothing samples) and its global guard. Nest skips
 * an `APP_GUARD` whose factory returns `null`, so an application without load shedding has no guard to run at all.
 */
export const LOAD_SHEDDING_PROVIDERS: Provider[] = [
  {
    provide: LoadShedderState,
    useFactory: (options: ResilienceModuleOptions, events: ResilienceEvents) => {
      validateModuleOptions(options);
      const { loadShedding } = options;
      if (loadShedding === undefined || loadShedding === false) return null;
      const { sampler, ...given } = loadShedding === true ? {} : loadShedding;
      const validator = new OptionsValidator('load shedding', 'loadShedding', 'ResilienceModule options');
      const merged = { ...DEFAULT_LOAD_SHEDDING_OPTIONS, ...withoutUndefined(given) };
      const normalized = validateLoadSheddingOptions(merged, validator);
      return new LoadShedderState(normalized, sampler ?? new ProcessLoadSampler(), events);
    },
    inject: [RESILIENCE_MODULE_OPTIONS, ResilienceEvents],
  },
  {
    provide: APP_GUARD,
    useFactory: (shedder: LoadShedderState | null, adapterHost: HttpAdapterHost, pipelines: PipelineFactory) =>
      shedder === null ? null : new LoadSheddingGuard(shedder, adapterHost, pipelines),
    inject: [LoadShedderState, HttpAdapterHost, PipelineFactory],
  },
];
