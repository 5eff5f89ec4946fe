/**
 * The server of the load-shedding rows of `npm run bench:overload`, started in its own process by
 * `bench/overload-shedding.ts`: a Nest 12 app (Express) whose one route burns the CPU for a fixed time, as a handler
 * doing real work does, so that its event loop really saturates when requests come faster than it can serve them.
 *   node dist/bench/overload-server.js <burn ms> <off|on>
 * `on`: `ResilienceModule.forRoot({ loadShedding: true })` (the defaults); `off`: the module without it. Tells its
 * parent the port over IPC.
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { ResilienceModule } from 'nest-resilience';

const burnMs = Number(process.argv[2] ?? 4);
const shedding = process.argv[3] === 'on';

@Controller()
class WorkController {
  @Get('work')
  work() {
    // Busy for burnMs: the request's CPU work (rendering, parsing, crypto...), not waiting.
    const end = performance.now() + burnMs;
    let spins = 0;
    while (performance.now() < end) spins++;
    return { spins };
  }
}

@Module({
  imports: [ResilienceModule.forRoot(shedding ? { loadShedding: true } : {})],
  controllers: [WorkController],
})
class AppModule {}

const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
await app.listen(0, '127.0.0.1');
const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
process.send?.({ port });
process.on('message', (message) => {
  if (message === 'stop') void app.close().then(() => process.exit(0));
});
