import { Module, type OnModuleInit } from '@nestjs/common';
import { ResilienceEvents, ResilienceModule } from 'nest-resilience';
import { PaymentsHttpModule } from './02-http/payments-http.module.js';
import { HealthModule } from './03-health/health.module.js';
import { OrdersModule } from './05-microservice/orders.module.js';
import { ObservabilityModule } from './06-observability/observability.module.js';
import { logResilienceEvents } from './shared/event-log.js';
import { gatewayPolicies } from './shared/resilience.options.js';

/**
 * The main sample (`npm start`): the HTTP routes, `/health`, the TCP message handlers, `/metrics` and the dashboard
 * (`/resilience`) in one hybrid app.
 */
@Module({
  imports: [
    ResilienceModule.forRoot(gatewayPolicies),
    PaymentsHttpModule,
    HealthModule,
    OrdersModule,
    ObservabilityModule,
  ],
})
export class AppModule implements OnModuleInit {
  constructor(private readonly events: ResilienceEvents) {}

  onModuleInit(): void {
    logResilienceEvents(this.events);
  }
}
