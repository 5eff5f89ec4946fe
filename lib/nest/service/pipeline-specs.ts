import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import { closestName } from '../../core/validation/did-you-mean.js';
import { OptionsValidator, typeOf } from '../../core/validation/options.validator.js';
import { FALLBACK_METADATA, type FallbackSpec, type PolicySpec } from '../../decorators/resilience.metadata.js';
import { CONFIGURABLE_KINDS } from '../pipeline/canonical-order.js';
import type { PipelineFactory } from '../pipeline/pipeline.factory.js';
import type { ResiliencePipelineOptions } from './resilience-pipeline.options.js';

/**
 * The option of a pipeline for each configurable kind (its `defaults` key), the metadata key its decorator records,
 * whether the policy keeps named state and whether the decorator records a list.
 */
const POLICY_OPTIONS = CONFIGURABLE_KINDS.map(({ defaultsKey, metadataKey, stateful, several }) => ({
  option: defaultsKey as keyof ResiliencePipelineOptions,
  key: metadataKey,
  stateful,
  several: several === true,
}));

const PIPELINE_OPTION_NAMES = ['name', 'fallback', ...POLICY_OPTIONS.map(({ option }) => option)];

/**
 * Options of the policies that only mean something on handlers: a pipeline refuses them inline rather than
 * silently ignoring them (a named configuration may carry them for the handlers that share it).
 */
const HANDLER_ONLY_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  retry: ['retryNonIdempotent'],
  rateLimit: ['headers', 'legacyHeaders'],
};

/**
 * What the decorators would have recorded for a pipeline named after configurations: `'gateway'` takes every
 * configuration called `gateway` (`timeouts.gateway`, `retries.gateway`, `circuitBreakers.gateway` ...).
 */
export function namedPipelineSpecs(name: string, factory: PipelineFactory): Map<string, unknown> {
  const specs = new Map<string, unknown>();
  for (const { key, several } of POLICY_OPTIONS) {
    if (!factory.hasNamedConfiguration(key, name)) continue;
    specs.set(key, several ? [{ name }] : { name });
  }
  if (specs.size === 0) {
    const known = factory.namedConfigurationNames();
    const closest = closestName(name, known);
    throw new ResilienceConfigError(
      `ResilienceService: no configuration is called "${name}"` +
        (closest === undefined ? '' : ` (did you mean "${closest}"?)`) +
        `; the ResilienceModule options name ${known.length ? known.map((each) => `"${each}"`).join(', ') : 'none'}`,
      name,
    );
  }
  return specs;
}

/**
 * What the decorators would have recorded for `options`; throws a {@link ResilienceConfigError} naming the option
 * when its shape is wrong (the policies' own options are checked by the pipeline factory).
 */
export function pipelineSpecs(options: ResiliencePipelineOptions, declaredAt: string): Map<string, unknown> {
  const validator = new OptionsValidator('pipeline', declaredAt, declaredAt);
  if (typeof options !== 'object' || options === null) {
    validator.fail('options', options, `must be a configuration name or an options object, got ${typeOf(options)}`);
  }
  validator.knownOptions(options, PIPELINE_OPTION_NAMES);
  const specs = new Map<string, unknown>();
  for (const { option, key, stateful, several } of POLICY_OPTIONS) {
    const reference: unknown = options[option];
    if (reference === undefined) continue;
    const spec = policySpecOf(option, reference, validator);
    for (const handlerOnly of HANDLER_ONLY_OPTIONS[option] ?? []) {
      const value = (spec.options as Record<string, unknown> | undefined)?.[handlerOnly];
      if (value === undefined) continue;
      validator.fail(
        `${option}.${handlerOnly}`,
        value,
        'applies to handlers only (HTTP methods, GraphQL mutations, response headers): a ResilienceService ' +
          'pipeline has no request, and runs whatever function it is given',
      );
    }
    if (stateful && spec.name === undefined && options.name === undefined) {
      validator.fail(
        'name',
        undefined,
        `is required with inline ${option} options (its state is kept under the pipeline's name): ` +
          `add name: '...' or refer to a configuration by name`,
      );
    }
    specs.set(key, several ? [spec] : spec);
  }
  if (options.fallback !== undefined) specs.set(FALLBACK_METADATA, fallbackSpecOf(options.fallback, validator));
  return specs;
}

function policySpecOf(option: string, reference: unknown, validator: OptionsValidator): PolicySpec<object> {
  if (typeof reference === 'string') return { name: reference };
  if (typeof reference === 'number' && option === 'timeout') return { options: { duration: reference } };
  if (Array.isArray(reference) && reference.length === 2 && typeof reference[0] === 'string') {
    return { name: reference[0], options: reference[1] as object };
  }
  if (typeof reference === 'object' && reference !== null && !Array.isArray(reference)) {
    return { options: reference };
  }
  return validator.fail(
    option,
    reference,
    `must be a configuration name, an options object or [name, options], got ${typeOf(reference)}`,
  );
}

function fallbackSpecOf(fallback: unknown, validator: OptionsValidator): FallbackSpec {
  if (typeof fallback === 'function') {
    const fn = fallback as (error: unknown) => unknown;
    // The pipeline's "arguments" are its callback: the fallback sees the error alone.
    return { steps: [{ fn: (error: unknown) => fn(error) }] };
  }
  if (typeof fallback === 'object' && fallback !== null && 'value' in fallback) {
    const { value, when } = fallback as { value: unknown; when?: (error: unknown) => boolean };
    return { steps: [{ value }], when };
  }
  return validator.fail('fallback', fallback, `must be a function of the error or { value }, got ${typeOf(fallback)}`);
}
