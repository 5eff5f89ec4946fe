/**
 * 06-observability: the HTTP sample with Prometheus metrics on /metrics and the live dashboard on /resilience.
 *   npm run build && node dist/sample/06-observability/main.js      (PORT, default 3000)
 * Open http://127.0.0.1:3000/resilience, then break the gateway and watch the breaker open:
 *   curl -X PUT http://127.0.0.1:3000/gateway -H 'content-type: application/json' -d '{"failureRate":1}'
 *   for i in $(seq 30); do curl -s -X POST http://127.0.0.1:3000/payments -H 'content-type: application/json' \
 *     -d '{"amount":1}' >/dev/null; done
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceModule } from 'nest-resilience';
import { PaymentsHttpModule } from '../02-http/payments-http.module.js';
import { gatewayPolicies } from '../shared/resilience.options.js';
import { ObservabilityModule } from './observability.module.js';

@Module({ imports: [ResilienceModule.forRoot(gatewayPolicies), PaymentsHttpModule, ObservabilityModule] })
class ObservabilitySampleModule {}

// An open dashboard page holds its event stream: close it with the app rather than wait for the browser.
const app = await NestFactory.create(ObservabilitySampleModule, { forceCloseConnections: true });
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
console.log(`06-observability on ${await app.getUrl()}: GET /metrics, dashboard at /resilience`);
