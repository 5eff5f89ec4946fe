import { deepFreeze } from '../validation/deep-freeze.js';
import { OptionsValidator, typeOf } from '../validation/options.validator.js';
import { MAX_COUNT, MAX_SEED } from '../validation/size-maxima.js';

/** Injects a failure instead of calling: `rate` is the probability (0.1 is 10% of calls). */
export interface ChaosFaultOptions {
  /** Probability of injecting, from 0 to 1. */
  rate: number;
  /** Builds the error to fail with. Default: a `ChaosFaultError` (code `CHAOS_FAULT`, retried like any failure). */
  error?: () => unknown;
}

/** Delays the call before it runs; the delay ends at once when the attempt is aborted (a timeout). */
export interface ChaosLatencyOptions {
  /** Probability of injecting, from 0 to 1. */
  rate: number;
  /** The delay in ms, or a range drawn uniformly (seeded when `seed` is set). */
  delay: number | { min: number; max: number };
}

/** Answers a value instead of calling (a stale, empty or surprising answer). */
export interface ChaosOutcomeOptions {
  /** Probability of injecting, from 0 to 1. */
  rate: number;
  /** Builds the value answered instead of the real one. */
  value: () => unknown;
}

/**
 * One experiment: what to inject, how often, and for which calls. Fault and outcome replace the call (a fault is
 * drawn first); latency may come on top of either, or of the real call.
 */
export interface ChaosExperimentOptions {
  /** Fail instead of calling. */
  fault?: ChaosFaultOptions;
  /** Wait before calling. */
  latency?: ChaosLatencyOptions;
  /** Answer a value instead of calling. */
  outcome?: ChaosOutcomeOptions;
  /**
   * Only calls for which this returns `true` may be injected (a header, a tenant): called with the request's
   * `ExecutionContext` on handlers, with the method's arguments on services. Default: every call.
   */
  enabledWhen?: (...args: never[]) => boolean;
}

/**
 * The `NODE_ENV` values that count as production for chaos: `production` and `prod`, in any case, surrounding
 * spaces ignored (`Production`, `PROD `). Every other value (`staging`, `prd`, unset) is not production.
 */
export const PRODUCTION_ENVIRONMENTS: readonly string[] = Object.freeze(['production', 'prod']);

/** Whether `environment` (`NODE_ENV`) is production for chaos: see {@link PRODUCTION_ENVIRONMENTS}. */
export function isProductionEnvironment(environment: string | undefined): boolean {
  return environment !== undefined && PRODUCTION_ENVIRONMENTS.includes(environment.trim().toLowerCase());
}

/**
 * The `chaos` module option: fault injection, off unless asked for three times. Nothing is injected unless `enabled`
 * is `true`, the experiment has a rate above 0, and `NODE_ENV` is not production (`production` or `prod`, in any
 * case) or `allowInProduction` is set.
 */
export interface ChaosOptions {
  /** The module flag: without `true`, no experiment is even built. Default `false`. */
  enabled: boolean;
  /**
   * Let the app start with chaos enabled when `NODE_ENV` is `production` or `prod` (any case). Default `false`:
   * bootstrap fails.
   */
  allowInProduction?: boolean;
  /**
   * Seed of the random draws (rates, latency ranges), so a run repeats exactly: an integer from 0 to 2^32 - 1.
   * Default: `Math.random`.
   */
  seed?: number;
  /**
   * At most this many injections per minute across the app (at most 1,000,000); beyond, calls run untouched.
   * Default: no cap.
   */
  maxInjectionsPerMinute?: number;
  /**
   * The experiments, by the name of a configuration the target's policies use (`gateway`: every method with
   * `@Retry('gateway')`, `@CircuitBreaker('gateway')` ...) or by target (`PaymentsService.charge`,
   * `ResilienceService.<pipeline name>`). A target's own entry wins over a configuration's.
   */
  experiments?: Record<string, ChaosExperimentOptions>;
}

/** Library defaults of `chaos` (frozen): off. */
export const DEFAULT_CHAOS_OPTIONS: Readonly<ChaosOptions> = deepFreeze({ enabled: false });

const CHAOS_OPTION_NAMES = Object.keys({
  enabled: true,
  allowInProduction: true,
  seed: true,
  maxInjectionsPerMinute: true,
  experiments: true,
} satisfies Record<keyof ChaosOptions, true>);

const EXPERIMENT_OPTION_NAMES = Object.keys({
  fault: true,
  latency: true,
  outcome: true,
  enabledWhen: true,
} satisfies Record<keyof ChaosExperimentOptions, true>);

/**
 * Checks the `chaos` option and returns it normalized (numeric and boolean strings converted). Refuses to enable
 * chaos when `environment` is production ({@link isProductionEnvironment}) unless `allowInProduction` is `true`.
 */
export function validateChaosOptions(options: unknown, environment: string | undefined): ChaosOptions {
  const validator = new OptionsValidator('chaos', 'chaos', 'ResilienceModule options "chaos"');
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    validator.fail(
      'chaos',
      options,
      `must be an object such as { enabled: true, experiments: {...} }, got ${typeOf(options)}`,
    );
  }
  const given = options as Partial<ChaosOptions>;
  validator.knownOptions(given, CHAOS_OPTION_NAMES);
  const normalized: ChaosOptions = {
    enabled: given.enabled === undefined ? false : validator.boolean('enabled', given.enabled),
    experiments: {},
  };
  if (given.allowInProduction !== undefined) {
    normalized.allowInProduction = validator.boolean('allowInProduction', given.allowInProduction);
  }
  if (given.seed !== undefined) normalized.seed = validator.boundedInteger('seed', given.seed, 0, MAX_SEED);
  if (given.maxInjectionsPerMinute !== undefined) {
    normalized.maxInjectionsPerMinute = validator.boundedInteger(
      'maxInjectionsPerMinute',
      given.maxInjectionsPerMinute,
      1,
      MAX_COUNT,
    );
  }
  const experiments = given.experiments ?? {};
  if (typeof experiments !== 'object' || experiments === null || Array.isArray(experiments)) {
    validator.fail('experiments', experiments, `must map names to experiments, got ${typeOf(experiments)}`);
  }
  for (const [name, experiment] of Object.entries(experiments)) {
    normalized.experiments![name] = validateChaosExperiment(experiment, name);
  }
  if (normalized.enabled && isProductionEnvironment(environment) && normalized.allowInProduction !== true) {
    validator.fail(
      'enabled',
      true,
      `chaos is refused when NODE_ENV is "production" or "prod" in any case (it is ${JSON.stringify(environment)}): ` +
        'set allowInProduction: true if you really mean it',
    );
  }
  return normalized;
}

function validateChaosExperiment(experiment: unknown, name: string): ChaosExperimentOptions {
  const validator = new OptionsValidator('chaos experiment', name, `ResilienceModule options "chaos.experiments"`);
  if (typeof experiment !== 'object' || experiment === null || Array.isArray(experiment)) {
    validator.fail(
      name,
      experiment,
      `must be an experiment such as { fault: { rate: 0.1 } }, got ${typeOf(experiment)}`,
    );
  }
  const given = experiment as ChaosExperimentOptions;
  validator.knownOptions(given, EXPERIMENT_OPTION_NAMES);
  validator.optionalFunction('enabledWhen', given.enabledWhen);
  const normalized: ChaosExperimentOptions = { enabledWhen: given.enabledWhen };
  if (given.fault !== undefined) {
    const fault = injection(validator, name, 'fault', given.fault, ['rate', 'error']);
    validator.optionalFunction('fault.error', given.fault.error);
    normalized.fault = { rate: fault.rate, error: given.fault.error };
  }
  if (given.latency !== undefined) {
    const { rate } = injection(validator, name, 'latency', given.latency, ['rate', 'delay']);
    normalized.latency = { rate, delay: delayOf(validator, given.latency.delay) };
  }
  if (given.outcome !== undefined) {
    const { rate } = injection(validator, name, 'outcome', given.outcome, ['rate', 'value']);
    if (typeof given.outcome.value !== 'function') {
      validator.fail(
        'outcome.value',
        given.outcome.value,
        `must be a function returning the value, got ${typeOf(given.outcome.value)}`,
      );
    }
    normalized.outcome = { rate, value: given.outcome.value };
  }
  return normalized;
}

/** Checks one injection's shape and rate. */
function injection(
  validator: OptionsValidator,
  name: string,
  option: string,
  given: unknown,
  known: string[],
): { rate: number } {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    validator.fail(option, given, `must be an object with a rate, e.g. { rate: 0.1 }, got ${typeOf(given)}`);
  }
  new OptionsValidator(`chaos ${option}`, name, 'ResilienceModule options "chaos.experiments"').knownOptions(
    given,
    known,
  );
  return { rate: chaosRate(validator, `${option}.rate`, (given as { rate?: unknown }).rate) };
}

/** A probability from 0 to 1 (a numeric string is accepted). */
export function chaosRate(validator: OptionsValidator, option: string, value: unknown): number {
  const rule = 'must be a probability from 0 to 1 (0.1 injects into 10% of calls)';
  const rate = validator.number(option, value, rule);
  if (!(rate >= 0 && rate <= 1)) validator.fail(option, value, rule);
  return rate;
}

function delayOf(validator: OptionsValidator, delay: unknown): number | { min: number; max: number } {
  if (typeof delay === 'object' && delay !== null && !Array.isArray(delay)) {
    const range = delay as { min?: unknown; max?: unknown };
    const min = validator.nonNegativeDuration('latency.delay.min', range.min);
    const max = validator.nonNegativeDuration('latency.delay.max', range.max);
    if (max < min) validator.fail('latency.delay.max', range.max, `must be >= latency.delay.min (${min})`);
    return { min, max };
  }
  return validator.nonNegativeDuration('latency.delay', delay);
}
