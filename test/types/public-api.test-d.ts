/**
 * Type tests of the public decorators and options, checked by `npm run typecheck` (tsc): each `@ts-expect-error`
 * fails the check if the line it marks compiles, so a typo that stops being caught is a failure.
 */
import type { ExecutionContext } from '@nestjs/common';
import { expectTypeOf } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  getTimeoutSignal,
  Hedge,
  Priority,
  SkipLoadShedding,
  isTimeoutError,
  RateLimit,
  ResilienceModule,
  Retry,
  retryBudgetExhaustedOf,
  Timeout,
  TimeoutSignal,
  type ResilienceModuleOptions,
  type TimeoutError,
} from '../../lib/index.js';

class PaymentsService {
  @Timeout(800)
  @Retry({ maxAttempts: 3, backoff: 'exponential', jitter: 'full' })
  @CircuitBreaker('gateway', { minimumCalls: 10 })
  @Bulkhead({ maxConcurrent: 5, key: (tenant: string) => tenant })
  @RateLimit({ limit: 10, interval: 1000, key: (tenant: string) => tenant })
  @Fallback('queued')
  async charge(tenant: string): Promise<string> {
    return tenant;
  }

  @Timeout({ duration: 500, total: 2000 })
  @Fallback({ value: [] })
  async list(): Promise<string[]> {
    return [];
  }

  @Fallback((error: unknown, tenant: string) => `queued for ${tenant}`)
  async other(tenant: string): Promise<string> {
    return tenant;
  }

  // @ts-expect-error: an option name with a typo is refused at compile time
  @Retry({ maxAtempts: 3 })
  async typo(): Promise<void> {}

  // @ts-expect-error: jitter takes one of four names
  @Retry({ jitter: 'random' })
  async badJitter(): Promise<void> {}

  // @ts-expect-error: a duration is a number of milliseconds
  @Timeout({ duration: '2s' })
  async badDuration(): Promise<void> {}
}

class QuotesController {
  // Handler key functions receive the ExecutionContext, typed without an annotation.
  @RateLimit({
    limit: 5,
    interval: 1000,
    key: (context) => {
      expectTypeOf(context).toEqualTypeOf<ExecutionContext>();
      return context.switchToHttp().getRequest<{ ip: string }>().ip;
    },
  })
  @RateLimit({ limit: 100, interval: 60_000, key: 'ip' })
  quote(@TimeoutSignal() signal: AbortSignal): string {
    return String(signal.aborted);
  }

  // @ts-expect-error: a key is 'ip', 'global' or a function
  @RateLimit({ key: 'user' })
  bad(): void {}
}

// @RateLimit also decorates classes; the policy decorators only methods.
@RateLimit({ limit: 100, interval: 60_000 })
class LimitedController {}

// @ts-expect-error: @Retry is a method decorator
@Retry()
class NotAMethod {}

expectTypeOf(getTimeoutSignal()).toEqualTypeOf<AbortSignal | undefined>();

declare const error: unknown;
if (isTimeoutError(error)) expectTypeOf(error).toEqualTypeOf<TimeoutError>();

expectTypeOf<ResilienceModuleOptions['retries']>().toEqualTypeOf<
  Record<string, Partial<import('../../lib/index.js').RetryOptions>> | undefined
>();
ResilienceModule.forRoot({ retries: { gateway: { maxAttempts: 3 } } });
// @ts-expect-error: named configurations are option objects, not numbers
ResilienceModule.forRoot({ timeouts: { gateway: 800 } });

ResilienceModule.forRoot({ retryBudgets: { default: { ratio: 0.2, minPerSecond: 10, window: 10_000 } } });
// @ts-expect-error: a retry budget option with a typo is refused at compile time
ResilienceModule.forRoot({ retryBudgets: { default: { ration: 0.2 } } });
class BudgetedService {
  @Retry({ maxAttempts: 5, budget: 'default' })
  async call(): Promise<void> {}

  @Hedge({ maxHedges: 1, delay: 100 })
  async hedged(): Promise<void> {}

  @Hedge({ delay: { percentile: 95, fallback: 100 } })
  async hedgedByPercentile(): Promise<void> {}

  // @ts-expect-error: a percentile delay is { percentile }, not a string
  @Hedge({ delay: 'p95' })
  async hedgedWrongly(): Promise<void> {}

  // @ts-expect-error: a budget is named, not given inline
  @Retry({ budget: { ratio: 0.2 } })
  async inline(): Promise<void> {}
}
expectTypeOf(retryBudgetExhaustedOf(error)).toEqualTypeOf<string | undefined>();

ResilienceModule.forRoot({ loadShedding: true });
ResilienceModule.forRoot({ loadShedding: { eventLoopDelay: { soft: 50, hard: 200 }, heapUsed: false } });
// @ts-expect-error: thresholds are { soft, hard }
ResilienceModule.forRoot({ loadShedding: { eventLoopDelay: 200 } });
@Priority('sheddable')
class AnalyticsController {
  @Priority('critical')
  checkout(): void {}

  // @ts-expect-error: three priorities only
  @Priority('low')
  low(): void {}

  @SkipLoadShedding()
  health(): void {}
}

export { AnalyticsController, BudgetedService, PaymentsService, QuotesController, LimitedController, NotAMethod };
