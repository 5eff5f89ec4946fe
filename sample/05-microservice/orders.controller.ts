import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RateLimit, Retry, Timeout } from 'nest-resilience';
import { PaymentsService } from '../shared/payments.service.js';

/**
 * The same payments over a TCP microservice (a hybrid app: HTTP and TCP in one process). The decorators work on
 * message handlers as on HTTP routes; a client receives `{ status: 'error', code, policy, message }` when a policy
 * gives up (`TIMEOUT`, `BROKEN_CIRCUIT`, `RATE_LIMIT_EXCEEDED` ...).
 */
@Controller()
export class OrdersController {
  constructor(private readonly payments: PaymentsService) {}

  /**
   * Charges for an order: at most 2 s for the whole message, 5 messages a second in all (RPC has no client address).
   */
  @MessagePattern('orders.pay')
  @Timeout(2000)
  @RateLimit({ limit: 5, interval: 1000 })
  pay(@Payload() order: { amount?: number }) {
    return this.payments.charge(Number(order.amount ?? 10));
  }

  /** A read that may be repeated: retried on transient failures like a GET. */
  @MessagePattern('orders.rate')
  @Retry({ maxAttempts: 2, initialDelay: 50 })
  rate(@Payload() currency: string) {
    return this.payments.rate(String(currency));
  }
}
