import { RetryPolicy } from '../../../core/retry/retry.policy.js';
import { DEFAULT_RETRY_OPTIONS, validateRetryOptions, type RetryOptions } from '../../../core/retry/retry.options.js';
import { DEFAULT_RETRY_BUDGET_OPTIONS, validateRetryBudgetOptions } from '../../../core/retry/retry-budget.options.js';
import type { RetryBudgetState } from '../../../core/retry/retry-budget.state.js';
import { closestName } from '../../../core/validation/did-you-mean.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';
import { withoutUndefined } from '../../../core/validation/without-undefined.js';
import type { IdempotencyOptions } from '../../../core/idempotency/idempotency.options.js';
import {
  IDEMPOTENT_METADATA,
  RETRY_METADATA,
  TIMEOUT_METADATA,
  type PolicySpec,
} from '../../../decorators/resilience.metadata.js';
import type { ConfigurableKind, Stage, StageHost } from '../stage.js';

/** `@Retry`: `retries.<name>`, `defaults.retry`. */
export const RETRY_KIND: ConfigurableKind<RetryOptions, 'retries', 'retry'> = {
  label: 'retry',
  decorator: '@Retry',
  metadataKey: RETRY_METADATA,
  configKey: 'retries',
  defaultsKey: 'retry',
  libraryDefaults: DEFAULT_RETRY_OPTIONS,
  validate: validateRetryOptions,
  example: '{ maxAttempts: 3 }',
  stateful: false,
};

/** Outside the breaker (an open circuit fails fast and is not retried), inside the total timeout. */
export const RETRY_STAGE = {
  name: 'retry',
  kind: RETRY_KIND,
  // Every budget of `retryBudgets` is validated and created at bootstrap, used or not (the registry lists it).
  setUp: (host) => {
    for (const [name, named] of Object.entries(host.options.retryBudgets ?? {})) {
      const validator = new OptionsValidator('retry budget', name, 'ResilienceModule options "retryBudgets"');
      const options = validateRetryBudgetOptions(
        { ...DEFAULT_RETRY_BUDGET_OPTIONS, ...withoutUndefined(named) },
        validator,
      );
      host.registry.retryBudgetFor(name, options);
    }
  },
  build: ({ read, declaredAt }, host) => {
    const spec = read(RETRY_METADATA) as PolicySpec<RetryOptions> | undefined;
    if (spec === undefined) return [];
    const { name, options } = host.resolve(RETRY_KIND, spec, declaredAt);
    const budget = retryBudget(host, options.budget, name, declaredAt);
    return [new RetryPolicy(name, options, host.events, budget, leaseCountsBackoff(read))];
  },
  // A handler retries requests that must not be repeated (POST, mutations) only with `retryNonIdempotent`.
  omitWhenUnrepeatable: ({ read, declaredAt, site }, host) => {
    if (site === 'provider') return false;
    const spec = read(RETRY_METADATA) as PolicySpec<RetryOptions>;
    return host.resolve(RETRY_KIND, spec, declaredAt).options.retryNonIdempotent !== true;
  },
} as const satisfies Stage;

/**
 * True when the method's `@Idempotent` lease is derived from its policies (no `lease` option, a `@Timeout`): that
 * lease counts each wait between attempts at the backoff's longest, so `Retry-After` must not wait longer.
 */
function leaseCountsBackoff(read: (key: string) => unknown): boolean {
  const idempotent = read(IDEMPOTENT_METADATA) as PolicySpec<IdempotencyOptions> | undefined;
  return idempotent !== undefined && idempotent.options?.lease === undefined && read(TIMEOUT_METADATA) !== undefined;
}

/** The retry budget a `@Retry` names, which must be one of the module option `retryBudgets`. */
export function retryBudget(
  host: StageHost,
  budget: string | undefined,
  policy: string,
  declaredAt: string,
): RetryBudgetState | undefined {
  if (budget === undefined) return undefined;
  const budgets = host.registry.retryBudgets;
  if (budgets.has(budget)) return budgets.get(budget);
  const known = budgets.names();
  const closest = closestName(budget, known);
  return new OptionsValidator('retry', policy, declaredAt).fail(
    'budget',
    budget,
    'names no retry budget' +
      (closest === undefined ? '' : ` (did you mean '${closest}'?)`) +
      ': ResilienceModule options "retryBudgets" has ' +
      (known.length ? known.map((key) => `"${key}"`).join(', ') : 'none'),
  );
}
