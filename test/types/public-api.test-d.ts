/**
 * Type tests of the public decorators and options, checked by `npm run typecheck` (tsc): each `@ts-expect-error`
 * fails the check if the line it marks compiles, so a typo that stops being caught is a failure.
 */
import type { ExecutionContext } from '@nestjs/common';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { Registry as PromRegistry } from 'prom-client';
import { ResilienceDashboardModule } from '../../lib/dashboard/index.js';
import { ResilienceOpenTelemetryModule } from '../../lib/opentelemetry/index.js';
import { ResiliencePrometheusModule } from '../../lib/prometheus/index.js';
import { expectTypeOf } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  DeadLetter,
  Fallback,
  getIdempotencyKey,
  getTimeoutSignal,
  Idempotent,
  MemoryIdempotencyStore,
  Hedge,
  Priority,
  SkipLoadShedding,
  RateLimit,
  ResilienceModule,
  Retry,
  retryBudgetExhaustedOf,
  Timeout,
  TimeoutSignal,
  withSignal,
  CallAbortedError,
  InvalidKeyError,
  ResilienceEvents,
  type ResilienceModuleOptions,
  ResilienceTimeoutError,
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

  // A chain: the last good answer per arguments, then a method, then a value.
  @Fallback([{ lastKnownGood: { maxAge: 60_000, key: (symbol: string) => symbol } }, 'queued', { value: [] }])
  async chained(symbol: string): Promise<string[]> {
    return [symbol];
  }

  // Each step may have its own `when`; functions and { fn } steps take the method's arguments.
  @Fallback(
    [
      { method: 'queued', when: (error) => error instanceof TypeError },
      { fn: (_error: unknown, tenant: string) => tenant },
      (_error: unknown, tenant: string) => tenant,
    ],
    { when: (error) => error !== null },
  )
  async steps(tenant: string): Promise<string> {
    return tenant;
  }

  @DeadLetter()
  @DeadLetter('orders', { openCircuitLimit: 10_000, when: (error) => error instanceof Error })
  async deadLettered(): Promise<void> {}

  // @ts-expect-error: the name is given once, as the first argument
  @DeadLetter('orders', { name: 'other' })
  async deadLetterTwice(): Promise<void> {}

  // @ts-expect-error: a last-known-good step needs maxAge
  @Fallback([{ lastKnownGood: { shared: true } }])
  async noMaxAge(): Promise<void> {}

  // @ts-expect-error: a misspelt last-known-good option is refused at compile time
  @Fallback([{ lastKnownGood: { maxAge: 1000, maxEntrys: 10 } }])
  async lkgTypo(): Promise<void> {}

  // @ts-expect-error: a step is a method name, a function or one of the step objects
  @Fallback([42])
  async badStep(): Promise<void> {}

  // @ts-expect-error: an option name with a typo is refused at compile time
  @Retry({ maxAtempts: 3 })
  async typo(): Promise<void> {}

  // @ts-expect-error: jitter takes one of four names
  @Retry({ jitter: 'random' })
  async badJitter(): Promise<void> {}

  // @ts-expect-error: a duration is a number of milliseconds
  @Timeout({ duration: '2s' })
  async badDuration(): Promise<void> {}

  @Timeout({ duration: 2000, adaptive: { percentile: 99, margin: 50, min: 100, max: 2000 } })
  async adaptive(): Promise<void> {}

  // @ts-expect-error: a misspelt adaptive option is refused at compile time
  @Timeout({ adaptive: { percentil: 99 } })
  async adaptiveTypo(): Promise<void> {}
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
if (error instanceof ResilienceTimeoutError) expectTypeOf(error).toEqualTypeOf<TimeoutError>();

expectTypeOf<ResilienceModuleOptions['retries']>().toEqualTypeOf<
  Record<string, Partial<import('../../lib/index.js').RetryOptions>> | undefined
>();
ResilienceModule.forRoot({ retries: { gateway: { maxAttempts: 3 } } });
ResilienceModule.forRoot({ metrics: true });
// @ts-expect-error: metrics is a boolean
ResilienceModule.forRoot({ metrics: 1 });
declare const registry: import('../../lib/index.js').ResilienceRegistry;
expectTypeOf(registry.targets.list()).toEqualTypeOf<import('../../lib/index.js').TargetSnapshot[]>();
expectTypeOf<import('../../lib/index.js').TargetSnapshot['outcomes']>().toHaveProperty('short_circuited');
// @ts-expect-error: named configurations are option objects, not numbers
ResilienceModule.forRoot({ timeouts: { gateway: 800 } });

class OrdersController {
  @Idempotent()
  create(): void {}

  @Idempotent({
    required: true,
    methods: ['POST'],
    scope: (context) => context.switchToHttp().getRequest<{ user: { id: string } }>().user.id,
    fingerprint: ['amount', 'currency'],
    onInFlight: { wait: 500 },
    replay: 'all',
    ttl: 3_600_000,
  })
  pay(): void {}

  @Idempotent({
    fingerprint: (context: ExecutionContext) => context.switchToHttp().getRequest<{ body: unknown }>().body,
  })
  fingerprinted(): void {}

  // @ts-expect-error: replay is '2xx-4xx' or 'all'
  @Idempotent({ replay: '5xx' })
  badReplay(): void {}

  // @ts-expect-error: onInFlight is 'reject' or { wait }
  @Idempotent({ onInFlight: 'wait' })
  badInFlight(): void {}
}

class EventsConsumer {
  @Idempotent({ key: (event: { id: string }) => event.id, ttl: 60_000, rememberErrors: true })
  async handle(event: { id: string }): Promise<string> {
    return event.id;
  }

  // @ts-expect-error: the key is a string
  @Idempotent({ key: (event: { id: number }) => event.id })
  async numeric(event: { id: number }): Promise<number> {
    return event.id;
  }
}

expectTypeOf(getIdempotencyKey()).toEqualTypeOf<string | undefined>();
ResilienceModule.forRoot({ idempotencyStore: new MemoryIdempotencyStore({ maxEntries: 1000, maxBytes: 1e6 }) });
// @ts-expect-error: an IdempotencyStore, not a URL
ResilienceModule.forRoot({ idempotencyStore: 'redis://localhost' });

// ResilienceService: execute returns the callback's type; options are typed per policy; a fallback answers that type.
declare const resilience: import('../../lib/index.js').ResilienceService;
interface Receipt {
  id: string;
}
declare const fetchReceipt: (signal: AbortSignal) => Promise<Receipt>;
expectTypeOf(resilience.execute('gateway', ({ signal }) => fetchReceipt(signal))).toEqualTypeOf<Promise<Receipt>>();
expectTypeOf(resilience.execute({ timeout: 800, retry: ['gateway', { maxAttempts: 2 }] }, () => 42)).toEqualTypeOf<
  Promise<number>
>();
void resilience.execute({ fallback: { value: { id: 'queued' } } }, ({ signal }) => fetchReceipt(signal));
// @ts-expect-error a fallback must answer the callback's type
void resilience.execute({ fallback: { value: 'queued' } }, ({ signal }) => fetchReceipt(signal));
// @ts-expect-error option typo inside a policy
void resilience.execute({ retry: { maxAtempts: 3 } }, () => 1);
// @ts-expect-error retryNonIdempotent is for handlers only
void resilience.execute({ retry: { retryNonIdempotent: true } }, () => 1);
const withFallback = resilience.pipeline({ name: 'quotes', bulkhead: { maxConcurrent: 2 }, fallback: () => 0 });
expectTypeOf(withFallback.execute(() => 'live')).toEqualTypeOf<Promise<string | number>>();
expectTypeOf(resilience.pipeline('gateway').execute(() => true)).toEqualTypeOf<Promise<boolean>>();

// Chaos options: typed per injection; a typo is caught.
const chaosOptions: ResilienceModuleOptions = {
  chaos: {
    enabled: true,
    seed: 1,
    experiments: {
      gateway: { fault: { rate: 0.1 }, latency: { rate: 0.1, delay: { min: 10, max: 20 } } },
      'QuotesController.latest': {
        outcome: { rate: 0.5, value: () => ({ stale: true }) },
        enabledWhen: (context: ExecutionContext) => context.getType() === 'http',
      },
    },
  },
};
void chaosOptions;
// @ts-expect-error latency needs a delay
const noDelay: ResilienceModuleOptions = { chaos: { enabled: true, experiments: { x: { latency: { rate: 1 } } } } };
void noDelay;

// The testing kit: trace keeps the call's type.
declare const kit: import('../../lib/testing/index.js').ResilienceTestKit;
expectTypeOf(kit.trace(() => Promise.resolve(42)))
  .resolves.toHaveProperty('value')
  .toEqualTypeOf<number | undefined>();

// The integrations' options are typed: a registry, buckets in seconds, guards as for @UseGuards.
ResiliencePrometheusModule.forRoot({ registry: new PromRegistry(), buckets: [0.1, 1] });
// @ts-expect-error: buckets are numbers of seconds
ResiliencePrometheusModule.forRoot({ buckets: ['100ms'] });
ResilienceOpenTelemetryModule.forRoot({ meterProvider: otelMetrics.getMeterProvider() });
ResilienceDashboardModule.forRoot({ path: 'resilience', guards: [], intervalMs: 500 });
// @ts-expect-error: the dashboard's path is a string
ResilienceDashboardModule.forRoot({ path: 42 });
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

interface Job {
  readonly status: 'pending' | 'done';
}

class JobsService {
  // A predicate typed for the method's own result is accepted.
  @Retry({ maxAttempts: 5, retryOnResult: (job: Job) => job.status === 'pending' })
  @Hedge({ delay: 100, hedgeOnResult: (job: Job) => job.status === 'pending' })
  async job(): Promise<Job> {
    return { status: 'done' };
  }

  // @ts-expect-error: a predicate, not a value
  @Retry({ retryOnResult: 'pending' })
  async other(): Promise<Job> {
    return { status: 'done' };
  }
}

declare const events: ResilienceEvents;
events.on('retry-give-up', (event) => expectTypeOf(event.attempts).toEqualTypeOf<number>());
events.on('call-success', (event) => expectTypeOf(event.duration).toEqualTypeOf<number>());
// @ts-expect-error: no such event
events.on('call-succeeded', () => undefined);
expectTypeOf(withSignal(new AbortController().signal, () => 1)).toEqualTypeOf<number>();
expectTypeOf(new CallAbortedError('x', undefined).code).toEqualTypeOf<'ABORTED'>();
expectTypeOf(new InvalidKeyError('x', 'bulkhead-key', 'undefined').code).toEqualTypeOf<'INVALID_KEY'>();
type PipelineAttempt = Parameters<Parameters<typeof resilience.execute>[1]>[0];
expectTypeOf<PipelineAttempt['idempotencyKey']>().toEqualTypeOf<string | undefined>();

export {
  JobsService,
  AnalyticsController,
  BudgetedService,
  PaymentsService,
  QuotesController,
  LimitedController,
  NotAMethod,
  OrdersController,
  EventsConsumer,
};
