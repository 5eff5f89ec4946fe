import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ResilienceEvents, ResilienceModule } from '../lib/index.js';
import { CircuitBreakerHealthIndicator } from '../lib/health/index.js';
import { HealthController } from './health/health.controller.js';
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
    }),
    TerminusModule,
  ],
  controllers: [PaymentsController, HealthController],
  providers: [PaymentGateway, PaymentsService, CircuitBreakerHealthIndicator],
})
export class AppModule implements OnModuleInit {
  private readonly logger = new Logger('Resilience');

  constructor(private readonly events: ResilienceEvents) {}

  /** Logs what the policies do, the way an application would feed its metrics. */
  onModuleInit(): void {
    this.events.subscribe((event) =>
      this.logger.log(
        event.type === 'circuit-state'
          ? `circuit ${event.policy}: ${event.from} -> ${event.to} (${event.reason})`
          : `${event.type} ${event.policy} on ${event.target.methodName}`,
      ),
    );
  }
}
