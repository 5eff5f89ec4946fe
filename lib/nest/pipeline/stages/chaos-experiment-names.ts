import { didYouMean } from '../../../core/validation/did-you-mean.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';

/** Pipelines of `ResilienceService` are built when first used, after bootstrap: their names cannot be checked now. */
const SERVICE_PIPELINE_PREFIX = 'ResilienceService.';

/**
 * Refuses, at bootstrap, an experiment whose name matches no named configuration and no decorated target: such an
 * experiment would inject nothing, silently (a typo such as `gatewy`). `targets` are the `Class.method` names of
 * every decorated method and handler of the application; `ResilienceService.<pipeline>` names are accepted unchecked.
 */
export function checkChaosExperimentNames(
  experimentNames: readonly string[],
  configurationNames: readonly string[],
  targets: ReadonlySet<string>,
): void {
  const configurations = new Set(configurationNames);
  for (const name of experimentNames) {
    if (configurations.has(name) || targets.has(name) || name.startsWith(SERVICE_PIPELINE_PREFIX)) continue;
    const known = [...configurationNames, ...targets];
    new OptionsValidator('chaos', 'chaos', 'ResilienceModule options "chaos"').fail(
      `experiments.${name}`,
      name,
      'names no configuration (of timeouts, retries, circuitBreakers, rateLimits, bulkheads ...) and no decorated ' +
        `method ("Class.method" with a policy decorator, or "ResilienceService.<pipeline>"): it would inject nothing.` +
        didYouMean(name, known),
    );
  }
}
