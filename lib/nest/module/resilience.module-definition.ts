import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RESILIENCE_MODULE_OPTIONS } from '../options/resilience-module.token.js';
import type { ResilienceModuleOptions } from './resilience-module.options.js';

/** Extra options of `forRoot` / `forRootAsync` that shape the module itself rather than the policies. */
export interface ResilienceModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default `true`. */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: ResilienceConfigurableModule,
  OPTIONS_TYPE: RESILIENCE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RESILIENCE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResilienceModuleOptions>({
  moduleName: 'Resilience',
  optionsInjectionToken: RESILIENCE_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<ResilienceModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
