/**
 * 01-services: policies on a plain service, in an application context (no HTTP server).
 *   npm run build && node dist/sample/01-services/main.js
 * Charges ten payments through a gateway that fails 30% of the time, and prints what the policies did.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceEvents, ResilienceModule } from 'nest-resilience';
import { logResilienceEvents } from '../shared/event-log.js';
import { PaymentsModule } from '../shared/payments.module.js';
import { PaymentsService } from '../shared/payments.service.js';
import { gatewayPolicies } from '../shared/resilience.options.js';

@Module({ imports: [ResilienceModule.forRoot(gatewayPolicies), PaymentsModule] })
class ServicesSampleModule {}

const app = await NestFactory.createApplicationContext(ServicesSampleModule, { logger: ['log', 'error'] });
logResilienceEvents(app.get(ResilienceEvents));
const payments = app.get(PaymentsService);
for (let amount = 1; amount <= 10; amount++) {
  try {
    console.log('charged', await payments.charge(amount));
  } catch (error) {
    console.log('failed', amount, (error as Error).message);
  }
}
await app.close();
