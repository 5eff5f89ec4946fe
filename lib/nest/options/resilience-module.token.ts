/**
 * The injection token of the module options (`ResilienceModuleOptions`), given to Nest's `ConfigurableModuleBuilder`
 * (`nest/module/resilience.module-definition.ts`): a leaf, so that every layer can inject the options. The value Nest
 * would derive from the module name, so nothing changes for whoever injected it by its string.
 */
export const RESILIENCE_MODULE_OPTIONS = 'RESILIENCE_MODULE_OPTIONS';
