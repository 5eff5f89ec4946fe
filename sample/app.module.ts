import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ResilienceEvents, type ResilienceEvent, ResilienceModule } from '../lib/index.js';
import { CircuitBreakerHealthIndicator } from '../lib/health/index.js';
import { HealthController } from './health/health.controller.js';
import { OrdersController } from './orders/orders.controller.js';
import { PaymentGateway } from './payments/payment-gateway.js';
import { PaymentsController } from './payments/payments.controller.js';
import { PaymentsService } from './payments/payments.service.js';

@Module({
  imports: [
    ResilienceModule.forRoot({
      defaults: { retry: { jitter: 'full' } },
      timeouts: { gateway: { duration: 800, total: 3000 } },
      retries: { gateway: { maxAttempts: 3, initialDelay: 100, maxDelay: 1000 } },
      circuitBreakers: {
        gateway: { window: 'time', windowSize: 30, minimumCalls: 5, failureRateThreshold: 50, openDuration: 10_000 },
      },
      bulkheads: { gateway: { maxConcurrent: 10, maxQueue: 20, maxWait: 2000 } },
    }),
    TerminusModule,
  ],
  controllers: [PaymentsController, OrdersController, HealthController],
  providers: [PaymentGateway, PaymentsService, CircuitBreakerHealthIndicator],
})
export class AppModule implements OnModuleInit {
  private readonly logger = new Logger('Resilience');

  constructor(private readonly events: ResilienceEvents) {}

  /** Logs what the policies do, the way an application would feed its metrics. */
  onModuleInit(): void {
    this.events.subscribe((event) => this.logger.log(describe(event)));
  }
}

function describe(event: ResilienceEvent): string {
  switch (event.type) {
    case 'circuit-state':
      return `circuit ${event.policy}: ${event.from} -> ${event.to} (${event.reason})`;
    case 'rate-limit-store-error':
      return `rate-limit store unavailable for ${event.key}: decided "${event.decision}"`;
    case 'rate-limit-store-recovered':
      return `rate-limit store back after ${event.downtimeMs} ms`;
    case 'coordination-error':
      return `breaker coordination (${event.operation}) failed for ${event.policy}`;
    default:
      return `${event.type} ${event.policy} on ${event.target.methodName}`;
  }
}
