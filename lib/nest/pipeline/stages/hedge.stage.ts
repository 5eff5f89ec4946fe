import { RequestMethod } from '@nestjs/common';
import { DEFAULT_HEDGE_OPTIONS, validateHedgeOptions, type HedgeOptions } from '../../../core/hedge/hedge.options.js';
import { HedgePolicy } from '../../../core/hedge/hedge.policy.js';
import { MetricsLatencySource } from '../../../core/hedge/metrics-latency.source.js';
import type { RetryOptions } from '../../../core/retry/retry.options.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';
import { withoutUndefined } from '../../../core/validation/without-undefined.js';
import { HEDGE_METADATA, RETRY_METADATA, type PolicySpec } from '../../../decorators/resilience.metadata.js';
import { isGraphQLMutation } from '../../handlers/handler-kind.js';
import type { PolicyKind, Stage } from '../stage.js';
import { RETRY_KIND } from './retry.stage.js';

/**
 * Routes whose requests must not run twice: hedging them needs `hedgeNonIdempotent: true` (as do GraphQL mutations).
 */
const NON_IDEMPOTENT = new Set([RequestMethod.POST, RequestMethod.PATCH, RequestMethod.ALL]);

/** `@Hedge`: inline options only. */
export const HEDGE_KIND: PolicyKind = { label: 'hedge', decorator: '@Hedge', metadataKey: HEDGE_METADATA };

/** Inside retry (each retry attempt may be hedged), outside the breaker (each hedged attempt goes through it). */
export const HEDGE_STAGE = {
  name: 'hedge',
  kind: HEDGE_KIND,
  build: ({ read, method, declaredAt, site }, host) => {
    const spec = read(HEDGE_METADATA) as PolicySpec<HedgeOptions> | undefined;
    if (spec === undefined) return [];
    const validator = new OptionsValidator('hedge', declaredAt, declaredAt);
    const options = validateHedgeOptions({ ...DEFAULT_HEDGE_OPTIONS, ...withoutUndefined(spec.options) }, validator);
    if (site === 'handler' && method !== undefined && options.hedgeNonIdempotent !== true) {
      const requestMethod = Reflect.getMetadata('method', method) as RequestMethod | undefined;
      if (requestMethod !== undefined && NON_IDEMPOTENT.has(requestMethod)) {
        validator.fail(
          'hedgeNonIdempotent',
          options.hedgeNonIdempotent,
          `must be true to hedge a ${RequestMethod[requestMethod]} route: its requests would run twice`,
        );
      }
      if (isGraphQLMutation(method)) {
        validator.fail(
          'hedgeNonIdempotent',
          options.hedgeNonIdempotent,
          'must be true to hedge a GraphQL mutation: its operations would run twice',
        );
      }
    }
    // A percentile delay without a latencySource of the user's reads the method's own call metrics, measured for it
    // whether metrics are on or not (see measuresCalls).
    let latencySource = host.options.latencySource;
    if (typeof options.delay === 'object' && latencySource === undefined) {
      latencySource = new MetricsLatencySource(host.registry.targets.targetFor(declaredAt));
    }
    const retry = read(RETRY_METADATA) as PolicySpec<RetryOptions> | undefined;
    const budgetName = retry && host.resolve(RETRY_KIND, retry, declaredAt).options.budget;
    const budget = budgetName === undefined ? undefined : host.registry.retryBudgets.get(budgetName);
    return [new HedgePolicy(declaredAt, options, host.events, budget, latencySource)];
  },
  // A hedge that reads this method's percentile registered its target: measure its calls.
  measuresCalls: ({ read, declaredAt }, host) =>
    host.registry.targets.has(declaredAt) && read(HEDGE_METADATA) !== undefined,
} as const satisfies Stage;
