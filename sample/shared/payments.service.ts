import { Injectable } from '@nestjs/common';
// A value import (not `import type`): TypeScript then records the Observable return type that nest-resilience reads.
import { from, Observable } from 'rxjs';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  getIdempotencyKey,
  getTimeoutSignal,
  Retry,
  Timeout,
} from 'nest-resilience';
import { PaymentGateway } from './payment-gateway.js';

/** Calls the flaky gateway through nest-resilience policies. */
@Injectable()
export class PaymentsService {
  constructor(private readonly gateway: PaymentGateway) {}

  /**
   * Named policies: their numbers live in the module options (`timeouts.gateway`, `retries.gateway`,
   * `circuitBreakers.gateway`, `bulkheads.gateway`). Once the gateway keeps failing, the breaker opens and calls fail
   * fast with 503; when too many charges are in flight at once, the bulkhead turns the extra ones away with 503.
   * Every attempt sends the same idempotency key (one per charge), so a retry after a lost answer never charges twice.
   */
  @Retry('gateway')
  @CircuitBreaker('gateway')
  @Timeout('gateway')
  @Bulkhead('gateway')
  async charge(amount: number): Promise<{ id: string; amount: number }> {
    // Read both before the first await: the signal aborts when this attempt times out; the key is the same on every
    // attempt of this charge.
    return this.gateway.charge(amount, getTimeoutSignal(), getIdempotencyKey());
  }

  /** An Observable method: stays lazy, and answers a cached rate once the retries are spent. */
  @Fallback('cachedRate')
  @Retry({ maxAttempts: 2, initialDelay: 50 })
  @Timeout(500)
  rate(currency: string): Observable<{ currency: string; rate: number; cached: boolean }> {
    return from(this.gateway.rate(currency).then((rate) => ({ currency, rate, cached: false })));
  }

  cachedRate(_error: unknown, currency: string): { currency: string; rate: number; cached: boolean } {
    return { currency, rate: currency === 'EUR' ? 0.9 : 1, cached: true };
  }
}
