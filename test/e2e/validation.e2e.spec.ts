import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  Fallback,
  ResilienceConfigError,
  ResilienceModule,
  Retry,
  Timeout,
  type ResilienceModuleOptions,
} from '../../lib/index.js';

/** Boots an app with `provider` and the module options; resolves with the bootstrap error. */
async function bootstrapError(provider: new (...args: never[]) => unknown, options: ResilienceModuleOptions = {}) {
  @Module({ imports: [ResilienceModule.forRoot(options)], providers: [provider] })
  class AppModule {}
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    await moduleRef.close();
  } catch (error) {
    return error;
  }
  throw new Error('bootstrap succeeded');
}

describe('invalid configuration stops the application at bootstrap', () => {
  it('rejects a negative timeout, naming the option, value, policy and method', async () => {
    @Injectable()
    class Gateway {
      @Timeout(-5)
      async call(): Promise<void> {}
    }
    const error = await bootstrapError(Gateway);
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toBe(
      'Invalid timeout option "duration" = -5 for policy "Gateway.call" (declared on Gateway.call): ' +
        'must be a finite number of milliseconds greater than 0',
    );
  });

  it('rejects maxAttempts: 0', async () => {
    @Injectable()
    class Gateway {
      @Retry({ maxAttempts: 0 })
      async call(): Promise<void> {}
    }
    expect(((await bootstrapError(Gateway)) as Error).message).toMatch(
      /retry option "maxAttempts" = 0 for policy "Gateway\.call".*must be an integer >= 1/,
    );
  });

  it('rejects a retryIf that is not a function', async () => {
    @Injectable()
    class Gateway {
      @Retry({ retryIf: 'yes' as never })
      async call(): Promise<void> {}
    }
    expect(((await bootstrapError(Gateway)) as Error).message).toMatch(/"retryIf" = "yes".*must be a function/);
  });

  it('rejects a fallback `when` that is not a function', async () => {
    @Injectable()
    class Gateway {
      @Fallback({ value: 1, when: 42 as never })
      async call(): Promise<void> {}
    }
    expect(((await bootstrapError(Gateway)) as Error).message).toMatch(/fallback option "when" = 42/);
  });

  it('takes one object without `value` as a step checked at bootstrap, never a fallback to undefined', async () => {
    @Injectable()
    class Typo {
      @Fallback({ valu: 1 } as never)
      async call(): Promise<number> {
        return 0;
      }
    }
    expect(((await bootstrapError(Typo)) as Error).message).toMatch(
      /^Unknown fallback option "valu" for policy "Typo\.call" .*Did you mean "value"\?/,
    );
    @Injectable()
    class Cache {
      @Fallback({ lastKnownGood: { maxAge: 1000, maxBytes: 2 ** 31 } } as never)
      async call(): Promise<number> {
        return 0;
      }
    }
    expect(((await bootstrapError(Cache)) as Error).message).toMatch(/"maxBytes" = 2147483648 .*at most 1,073,741,824/);
  });

  it('rejects a decorator naming a configuration that does not exist', async () => {
    @Injectable()
    class Gateway {
      @Retry('paymnets')
      async call(): Promise<void> {}
    }
    const error = await bootstrapError(Gateway, { retries: { payments: {} } });
    expect((error as Error).message).toBe(
      `@Retry('paymnets') on Gateway.call names a retry configuration that does not exist ` +
        `(did you mean 'payments'?): ` +
        `ResilienceModule options "retries" has "payments"`,
    );
  });

  it('rejects a fallback method that the class does not have', async () => {
    @Injectable()
    class Gateway {
      @Fallback('cahced')
      async call(): Promise<void> {}
    }
    expect(((await bootstrapError(Gateway)) as Error).message).toMatch(
      /fallback option "method" = "cahced" .*Gateway\.call.*must name a method of the same class/,
    );
  });

  it('rejects an invalid named configuration even when nothing uses it yet', async () => {
    @Injectable()
    class Unused {}
    const error = await bootstrapError(Unused, { timeouts: { search: { duration: 0 } } });
    expect((error as Error).message).toBe(
      'Invalid timeout option "duration" = 0 for policy "search" (declared on ResilienceModule options "timeouts"): ' +
        'must be a finite number of milliseconds greater than 0',
    );
  });

  it('rejects an invalid module default, naming the method it reached', async () => {
    @Injectable()
    class Gateway {
      @Retry()
      async call(): Promise<void> {}
    }
    const error = await bootstrapError(Gateway, { defaults: { retry: { maxDelay: 10, initialDelay: 100 } } });
    expect((error as Error).message).toMatch(/"maxDelay" = 10 for policy "Gateway\.call".*must be >= initialDelay/);
  });

  it.each([
    [{ failureRateThreshold: 0 }, /"failureRateThreshold" = 0 .*must be a percentage greater than 0 and at most 100/],
    [{ slowCallRateThreshold: 150 }, /"slowCallRateThreshold" = 150 .*at most 100/],
    [{ window: 'sliding' as never }, /"window" = "sliding" .*must be one of "count", "time"/],
    [{ halfOpenMaxCalls: 0 }, /"halfOpenMaxCalls" = 0 .*integer >= 1/],
    [{ openDuration: 10_000, maxOpenDuration: 5_000 }, /"maxOpenDuration" = 5000 .*must be >= openDuration \(10000\)/],
    [{ windowSize: 2.5 }, /"windowSize" = 2.5 .*integer >= 1/],
    [{ recordIf: true as never }, /"recordIf" = true .*must be a function/],
    [{ coordination: 'zookeeper' as never }, /"coordination" = "zookeeper" .*must be one of "local", "redis"/],
    [
      { coordination: 'redis' as const },
      /"coordination" = "redis" .*needs a coordination of replicas: store: new RedisStore\(...\) or coordination/,
    ],
  ])('rejects circuit breaker options %o', async (options, message) => {
    @Injectable()
    class Gateway {
      @CircuitBreaker('payments', options)
      async call(): Promise<void> {}
    }
    const error = await bootstrapError(Gateway, { circuitBreakers: { payments: {} } });
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /^Invalid circuit breaker option .* for policy "payments" \(declared on Gateway\.call\)/,
    );
    expect((error as Error).message).toMatch(message);
  });

  it('rejects coordination: "redis" without a coordinating store, in a configuration nothing uses', async () => {
    @Injectable()
    class Unrelated {
      async call(): Promise<void> {}
    }
    const error = await bootstrapError(Unrelated, { circuitBreakers: { payments: { coordination: 'redis' } } });
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /^Invalid circuit breaker option "coordination" = "redis" for policy "payments" \(declared on ResilienceModule/,
    );
    expect((error as Error).message).toMatch(/options "circuitBreakers"\): needs a coordination of replicas/);
  });
});
