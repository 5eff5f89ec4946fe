/**
 * The option types derived from the canonical order (`lib/nest/pipeline/canonical-order.ts`): every configurable kind
 * has its named configurations and its `defaults` key in the module options, and its option in `ResilienceService`
 * pipelines; a named configuration of every kind type-checks, and a wrong key does not. Checked by `npm run
 * typecheck`.
 */
import { expectTypeOf } from 'vitest';
import {
  ResilienceModule,
  type ResilienceModuleOptions,
  type ResiliencePipelineOptions,
  type ResiliencePolicyDefaults,
  type ResilienceService,
  type RetryOptions,
  type TimeoutOptions,
} from '../../lib/index.js';
import type { ConfigurableKindOf } from '../../lib/nest/pipeline/canonical-order.js';

type ConfigKey = ConfigurableKindOf['configKey'];
type DefaultsKey = ConfigurableKindOf['defaultsKey'];

// The kinds of the order, as their keys: a kind added to the order changes these two lines and nothing else here.
expectTypeOf<ConfigKey>().toEqualTypeOf<'timeouts' | 'retries' | 'circuitBreakers' | 'bulkheads' | 'rateLimits'>();
expectTypeOf<DefaultsKey>().toEqualTypeOf<'timeout' | 'retry' | 'circuitBreaker' | 'bulkhead' | 'rateLimit'>();

// Every kind of the order has its named configurations, its defaults and its pipeline option, derived.
expectTypeOf<Extract<keyof ResilienceModuleOptions, ConfigKey>>().toEqualTypeOf<ConfigKey>();
expectTypeOf<keyof ResiliencePolicyDefaults>().toEqualTypeOf<DefaultsKey>();
expectTypeOf<Exclude<keyof ResiliencePipelineOptions, 'name' | 'fallback'>>().toEqualTypeOf<DefaultsKey>();

// Each holds (part of) the kind's own options.
type Named<K extends ConfigurableKindOf> = Record<string, Partial<K['libraryDefaults']>> | undefined;
expectTypeOf<ResilienceModuleOptions['retries']>().toEqualTypeOf<
  Named<Extract<ConfigurableKindOf, { configKey: 'retries' }>>
>();
expectTypeOf<ResilienceModuleOptions['timeouts']>().toEqualTypeOf<
  Record<string, Partial<TimeoutOptions>> | undefined
>();
expectTypeOf<ResiliencePolicyDefaults['retry']>().toEqualTypeOf<Partial<RetryOptions> | undefined>();

// A named configuration and module defaults of every kind type-check.
ResilienceModule.forRoot({
  timeouts: { fast: { duration: 200 } },
  retries: { gateway: { maxAttempts: 3, backoff: 'exponential' } },
  circuitBreakers: { gateway: { minimumCalls: 10 } },
  bulkheads: { gateway: { maxConcurrent: 5 } },
  rateLimits: { burst: { limit: 10, interval: 1000 } },
  defaults: {
    timeout: { duration: 1000 },
    retry: { maxAttempts: 2 },
    circuitBreaker: { minimumCalls: 20 },
    bulkhead: { maxConcurrent: 10 },
    rateLimit: { limit: 100, interval: 60_000 },
  },
});

// A wrong key fails, in every kind's named configurations and defaults, and a kind that does not exist.
// @ts-expect-error: `durration` is not a timeout option
ResilienceModule.forRoot({ timeouts: { fast: { durration: 200 } } });
// @ts-expect-error: `maxAttempt` is not a retry option
ResilienceModule.forRoot({ retries: { gateway: { maxAttempt: 3 } } });
// @ts-expect-error: `minimumCall` is not a circuit breaker option
ResilienceModule.forRoot({ circuitBreakers: { gateway: { minimumCall: 10 } } });
// @ts-expect-error: `maxConcurent` is not a bulkhead option
ResilienceModule.forRoot({ bulkheads: { gateway: { maxConcurent: 5 } } });
// @ts-expect-error: `limits` is not a rate limit option
ResilienceModule.forRoot({ rateLimits: { burst: { limits: 10 } } });
// @ts-expect-error: `maxAttempt` is not a retry option
ResilienceModule.forRoot({ defaults: { retry: { maxAttempt: 2 } } });
// @ts-expect-error: `retrys` is no kind's defaults key
ResilienceModule.forRoot({ defaults: { retrys: { maxAttempts: 2 } } });
// @ts-expect-error: `retrys` is no kind's named configurations
ResilienceModule.forRoot({ retrys: { gateway: { maxAttempts: 3 } } });

// Pipelines of ResilienceService take every kind's option, by name, inline or both; a wrong key fails.
declare const service: ResilienceService;
void service.execute(
  {
    name: 'upload',
    timeout: 800,
    retry: ['gateway', { maxAttempts: 2 }],
    circuitBreaker: 'gateway',
    bulkhead: { maxConcurrent: 2, key: () => 'tenant' },
    rateLimit: { limit: 5, interval: 1000 },
  },
  async () => 1,
);
// @ts-expect-error: `maxAttempt` is not a retry option
void service.execute({ retry: { maxAttempt: 2 } }, async () => 1);
// @ts-expect-error: `retryNonIdempotent` means nothing to a pipeline (it is not a handler)
void service.execute({ retry: { retryNonIdempotent: true } }, async () => 1);
