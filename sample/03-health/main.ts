/**
 * 03-health: the HTTP sample with a Terminus `/health` endpoint reporting the circuit breakers.
 *   npm run build && node dist/sample/03-health/main.js    (PORT, default 3000)
 * Break the gateway (`PUT /gateway {"failureRate":1}`), send a few `POST /payments`, and watch `/health` degrade.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceModule } from 'nest-resilience';
import { PaymentsHttpModule } from '../02-http/payments-http.module.js';
import { gatewayPolicies } from '../shared/resilience.options.js';
import { HealthModule } from './health.module.js';

@Module({ imports: [ResilienceModule.forRoot(gatewayPolicies), PaymentsHttpModule, HealthModule] })
class HealthSampleModule {}

const app = await NestFactory.create(HealthSampleModule);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
console.log(`03-health on ${await app.getUrl()}: GET /health, POST /breakers/gateway/reset`);
