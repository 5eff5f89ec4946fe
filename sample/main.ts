import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { AppModule } from './app.module.js';

// An open dashboard page holds its event stream: close it with the app rather than wait for the browser.
const app = await NestFactory.create(AppModule, { forceCloseConnections: true });
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
const rpcPort = Number(process.env.RPC_PORT ?? 3001);
// A hybrid app, in the order the Nest docs show: the same decorators apply to its message handlers.
app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: rpcPort } });
await app.startAllMicroservices();
await app.listen(port, '127.0.0.1');
console.log(`nest-resilience sample on http://127.0.0.1:${port}
  curl -X POST http://127.0.0.1:${port}/payments -H 'content-type: application/json' -d '{"amount":42}'
  curl http://127.0.0.1:${port}/rates/EUR
  curl http://127.0.0.1:${port}/slow/1500      # 504 from @Timeout(1000)
  curl -X PUT http://127.0.0.1:${port}/gateway -H 'content-type: application/json' -d '{"failureRate":0.9}'
  curl http://127.0.0.1:${port}/metrics      # Prometheus; the live dashboard: http://127.0.0.1:${port}/resilience
TCP microservice on 127.0.0.1:${rpcPort}
  node dist/sample/05-microservice/rpc-client.js 8   # 8 charges at once: 5 admitted, then RATE_LIMIT_EXCEEDED`);
