/**
 * 02-http: decorators on HTTP handlers and on the service they call.
 *   npm run build && node dist/sample/02-http/main.js      (PORT, default 3000)
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceModule } from 'nest-resilience';
import { gatewayPolicies } from '../shared/resilience.options.js';
import { PaymentsHttpModule } from './payments-http.module.js';

@Module({ imports: [ResilienceModule.forRoot(gatewayPolicies), PaymentsHttpModule] })
class HttpSampleModule {}

const app = await NestFactory.create(HttpSampleModule);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
console.log(`02-http on ${await app.getUrl()}: POST /payments, GET /rates/EUR, GET /slow/1500, PUT /gateway`);
