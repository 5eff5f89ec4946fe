import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
await app.listen(port, '127.0.0.1');
console.log(`nest-resilience sample on http://127.0.0.1:${port}
  curl -X POST http://127.0.0.1:${port}/payments -H 'content-type: application/json' -d '{"amount":42}'
  curl http://127.0.0.1:${port}/rates/EUR
  curl http://127.0.0.1:${port}/slow/1500      # 504 from @Timeout(1000)
  curl -X PUT http://127.0.0.1:${port}/gateway -H 'content-type: application/json' -d '{"failureRate":0.9}'`);
