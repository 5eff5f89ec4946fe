/**
 * 05-microservice: decorators on message handlers of a TCP microservice.
 *   npm run build && node dist/sample/05-microservice/main.js      (RPC_PORT, default 3001)
 *   node dist/sample/05-microservice/rpc-client.js 8
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { ResilienceModule } from 'nest-resilience';
import { gatewayPolicies } from '../shared/resilience.options.js';
import { OrdersModule } from './orders.module.js';

@Module({ imports: [ResilienceModule.forRoot(gatewayPolicies), OrdersModule] })
class MicroserviceSampleModule {}

const port = Number(process.env.RPC_PORT ?? 3001);
const app = await NestFactory.createMicroservice<MicroserviceOptions>(MicroserviceSampleModule, {
  transport: Transport.TCP,
  options: { host: '127.0.0.1', port },
});
app.enableShutdownHooks();
await app.listen();
console.log(`05-microservice on tcp://127.0.0.1:${port}: node dist/sample/05-microservice/rpc-client.js 8`);
