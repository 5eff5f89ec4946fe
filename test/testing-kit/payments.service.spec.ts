/**
 * Example spec for a service, as docs/chaos-and-testing.md shows it: exact retry timings under fake timers, forcing
 * the breaker, filling the bulkhead, business logic without the policies, and what one call did.
 */
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bulkhead, CircuitBreaker, Fallback, ResilienceModule, Retry, Timeout } from 'nest-resilience';
import { ResilienceTestKit, ResilienceTesting } from 'nest-resilience/testing';

/** The downstream the service calls; the tests replace its `charge`. */
@Injectable()
class PaymentGateway {
  charge(amount: number): Promise<{ id: string; amount: number }> {
    return Promise.resolve({ id: 'live', amount });
  }
}

@Injectable()
class PaymentsService {
  constructor(private readonly gateway: PaymentGateway) {}

  @Fallback('queued')
  @Retry('gateway')
  @CircuitBreaker('gateway')
  @Timeout('gateway')
  @Bulkhead('gateway')
  async charge(amount: number): Promise<{ id: string; amount: number }> {
    if (amount <= 0) throw new RangeError('amount must be positive');
    return this.gateway.charge(amount);
  }

  queued(_error: unknown, amount: number): { id: string; amount: number } {
    return { id: 'queued', amount };
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      timeouts: { gateway: { duration: 800 } },
      // jitter 'full' in production; ResilienceTesting.prepare makes the waits exact: 100, then 200 ms.
      retries: { gateway: { maxAttempts: 3, initialDelay: 100, jitter: 'full' } },
      circuitBreakers: { gateway: { consecutiveFailures: 5, openDuration: 10_000 } },
      bulkheads: { gateway: { maxConcurrent: 2 } },
    }),
  ],
  providers: [PaymentGateway, PaymentsService],
})
class PaymentsModule {}

describe('PaymentsService', () => {
  let moduleRef: TestingModule;
  let payments: PaymentsService;
  let gateway: PaymentGateway;
  let kit: ResilienceTestKit;

  beforeEach(async () => {
    // Fake the clocks the policies read (timers, Date, performance) before the app is built.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    moduleRef = await ResilienceTesting.prepare(Test.createTestingModule({ imports: [PaymentsModule] })).compile();
    await moduleRef.init();
    payments = moduleRef.get(PaymentsService);
    gateway = moduleRef.get(PaymentGateway);
    kit = ResilienceTestKit.from(moduleRef);
  });

  afterEach(async () => {
    await moduleRef.close();
    vi.useRealTimers();
  });

  it('retries after exactly 100 then 200 ms, then answers the fallback', async () => {
    const charge = vi.spyOn(gateway, 'charge').mockRejectedValue(new Error('gateway down'));
    const traced = kit.trace(() => payments.charge(42));
    await vi.advanceTimersByTimeAsync(99);
    expect(charge).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(charge).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(200);
    const trace = await traced;
    expect(trace.attempts).toBe(3);
    expect(trace.fallback?.policy).toBe('PaymentsService.charge');
    expect(trace.value).toEqual({ id: 'queued', amount: 42 });
    expect(trace.events.map((event) => event.type)).toEqual(['retry', 'retry', 'retry-give-up', 'fallback']);
  });

  it('answers the fallback without calling the gateway while the breaker is open', async () => {
    const charge = vi.spyOn(gateway, 'charge');
    kit.forceOpen('gateway');
    expect(await payments.charge(42)).toEqual({ id: 'queued', amount: 42 });
    expect(charge).not.toHaveBeenCalled();
    kit.forceClose('gateway');
    expect(await payments.charge(42)).toEqual({ id: 'live', amount: 42 });
  });

  it('answers the fallback when the bulkhead is full, and calls the gateway once it is drained', async () => {
    kit.fillBulkhead('gateway');
    const trace = await kit.trace(() => payments.charge(42));
    expect(trace.fallback?.error).toMatchObject({ code: 'BULKHEAD_REJECTED' });
    kit.drainBulkhead('gateway');
    expect(await payments.charge(42)).toEqual({ id: 'live', amount: 42 });
  });

  it('tests the business rule alone, with the policies switched off', async () => {
    kit.disablePolicies();
    // Without the fallback the rule's own error reaches the caller.
    await expect(payments.charge(0)).rejects.toThrow(RangeError);
    kit.enablePolicies();
    const traced = kit.trace(() => payments.charge(0));
    await vi.advanceTimersByTimeAsync(300);
    const trace = await traced;
    expect(trace.attempts).toBe(3);
    expect(trace.value).toEqual({ id: 'queued', amount: 0 });
  });
});
