import { Body, Controller, Get, Param, ParseIntPipe, Post, Put } from '@nestjs/common';
import { Idempotent, RateLimit, Timeout } from 'nest-resilience';
import { PaymentGateway, type GatewayBehaviour } from '../shared/payment-gateway.js';
import { PaymentsService } from '../shared/payments.service.js';

@Controller()
export class PaymentsController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly gateway: PaymentGateway,
  ) {}

  /**
   * Charges through the resilient service; a timeout answers 504, a gateway failure after retries 503. A client
   * that sends `Idempotency-Key` can repeat the request safely: the second one gets the first answer back.
   */
  @Post('payments')
  @Idempotent()
  charge(@Body() body: { amount?: number }) {
    return this.payments.charge(Number(body.amount ?? 10));
  }

  /**
   * 20 requests a minute per client IP: the 21st answers 429 with Retry-After; every answer has RateLimit-* headers.
   */
  @Get('rates/:currency')
  @RateLimit({ limit: 20, interval: 60_000 })
  rate(@Param('currency') currency: string) {
    return this.payments.rate(currency);
  }

  /** A controller handler with its own timeout: slower than 1 s answers 504. */
  @Get('slow/:ms')
  @Timeout(1000)
  async slow(@Param('ms', ParseIntPipe) ms: number) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { waited: ms };
  }

  @Get('gateway')
  behaviour() {
    const { calls, charges, aborted } = this.gateway;
    return { ...this.gateway.behaviour, calls, charges, aborted };
  }

  /** Makes the simulated gateway slower or flakier, e.g. `{ "latencyMs": 2000, "failureRate": 0.9 }`. */
  @Put('gateway')
  tune(@Body() body: Partial<GatewayBehaviour>) {
    Object.assign(this.gateway.behaviour, body);
    return this.gateway.behaviour;
  }
}
