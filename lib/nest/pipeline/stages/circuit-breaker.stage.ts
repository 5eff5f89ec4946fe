import {
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validateCircuitBreakerOptions,
  type CircuitBreakerOptions,
} from '../../../core/circuit-breaker/circuit-breaker.options.js';
import { CircuitBreakerPolicy } from '../../../core/circuit-breaker/circuit-breaker.policy.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';
import { CIRCUIT_BREAKER_METADATA, type PolicySpec } from '../../../decorators/resilience.metadata.js';
import type { ConfigurableKind, Stage } from '../stage.js';

/** `@CircuitBreaker`: `circuitBreakers.<name>`, `defaults.circuitBreaker`; every method naming one shares it. */
export const CIRCUIT_BREAKER_KIND: ConfigurableKind<CircuitBreakerOptions, 'circuitBreakers', 'circuitBreaker'> = {
  label: 'circuit breaker',
  decorator: '@CircuitBreaker',
  metadataKey: CIRCUIT_BREAKER_METADATA,
  configKey: 'circuitBreakers',
  defaultsKey: 'circuitBreaker',
  libraryDefaults: DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validate: validateCircuitBreakerOptions,
  example: '{ failureRateThreshold: 50 }',
  stateful: true,
};

/** Inside retry and hedge: each attempt goes through the breaker. */
export const CIRCUIT_BREAKER_STAGE = {
  name: 'circuit breaker',
  kind: CIRCUIT_BREAKER_KIND,
  build: ({ read, declaredAt }, host) => {
    const spec = read(CIRCUIT_BREAKER_METADATA) as PolicySpec<CircuitBreakerOptions> | undefined;
    if (spec === undefined) return [];
    const { name, options } = host.resolve(CIRCUIT_BREAKER_KIND, spec, declaredAt);
    requireCoordinator(
      options,
      host.registry.coordinator !== undefined,
      new OptionsValidator('circuit breaker', name, declaredAt),
    );
    return [new CircuitBreakerPolicy(host.registry.circuitBreakerFor(name, options))];
  },
} as const satisfies Stage;

/**
 * Refuses `coordination: 'redis'` without a coordinating store: checked for every named configuration at bootstrap
 * (used or not, as every other rule) and for each breaker a method builds.
 */
export function requireCoordinator(
  options: CircuitBreakerOptions,
  coordinated: boolean,
  validator: OptionsValidator,
): void {
  if (options.coordination !== 'redis' || coordinated) return;
  validator.fail(
    'coordination',
    'redis',
    'needs a coordination of replicas: store: new RedisStore(...) or coordination: redisStore ' +
      'in the ResilienceModule options',
  );
}
