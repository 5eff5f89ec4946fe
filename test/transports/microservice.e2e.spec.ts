import { Controller, Get, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, EventPattern, MessagePattern, Transport, type ClientProxy } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, Fallback, RateLimit, ResilienceModule, Retry, Timeout } from '../../lib/index.js';
import { Downstream } from './downstream.js';
import { freePort } from './free-port.js';

const downstream = new Downstream();
const events: string[] = [];

/** A decorated service: its errors reach whichever handler calls it. */
@Injectable()
class QuoteSource {
  @Timeout(50)
  async fetch(): Promise<string> {
    return downstream.call('source');
  }
}

@Controller()
class QuotesController {
  constructor(private readonly source: QuoteSource) {}

  /** No decorator of its own: the service's TimeoutError reaches Nest's exception layer unmapped. */
  @MessagePattern('from-service')
  fromService(): Promise<string> {
    return this.source.fetch();
  }

  @MessagePattern('slow')
  @Timeout(50)
  async slow(): Promise<string> {
    return downstream.call('slow');
  }

  @MessagePattern('flaky')
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async flaky(): Promise<string> {
    return downstream.call('flaky');
  }

  @MessagePattern('with-fallback')
  @Fallback({ value: 'cached quote' })
  async withFallback(): Promise<string> {
    return downstream.call('with-fallback');
  }

  @MessagePattern('guarded')
  @CircuitBreaker({ consecutiveFailures: 2, openDuration: 60_000 })
  async guarded(): Promise<string> {
    return downstream.call('guarded');
  }

  @MessagePattern('limited')
  @RateLimit({ limit: 2, interval: 60_000 })
  limited(): string {
    return 'allowed';
  }

  @EventPattern('order-placed')
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async orderPlaced(id: string): Promise<void> {
    events.push(id);
    await downstream.call('event');
  }

  @Get('flaky')
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async flakyOverHttp(): Promise<string> {
    return downstream.call('http');
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [QuotesController], providers: [QuoteSource] })
class AppModule {}

/** What an RPC client receives for a failed message. */
async function sendError(client: ClientProxy, pattern: string): Promise<unknown> {
  return firstValueFrom(client.send<unknown>(pattern, {})).then(
    (value) => ({ unexpectedValue: value }),
    (error: unknown) => error,
  );
}

const opened: { close(): Promise<unknown> }[] = [];

afterEach(async () => {
  for (const each of opened.splice(0).reverse()) await each.close();
  Object.assign(downstream, { calls: 0, failures: 0, down: false, hanging: false });
  events.length = 0;
});

async function client(port: number): Promise<ClientProxy> {
  const proxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  await proxy.connect();
  opened.push(proxy);
  return proxy;
}

/** The message handlers' behaviour, whichever way the microservice was started. */
function behavesResiliently(start: () => Promise<number>): void {
  it('@Timeout: the client receives TIMEOUT with the policy name, not "Internal server error"', async () => {
    const rpc = await client(await start());
    downstream.hanging = true;
    expect(await sendError(rpc, 'slow')).toEqual({
      status: 'error',
      code: 'TIMEOUT',
      policy: 'QuotesController.slow',
      message: expect.stringContaining('50 ms') as unknown,
    });
  });

  it('@Retry: a message that fails twice is answered by the third attempt', async () => {
    const rpc = await client(await start());
    downstream.failures = 2;
    await expect(firstValueFrom(rpc.send('flaky', {}))).resolves.toBe('flaky #3');
    expect(downstream.calls).toBe(3);
  });

  it('@Fallback: a failed message is answered with the fallback value', async () => {
    const rpc = await client(await start());
    downstream.down = true;
    await expect(firstValueFrom(rpc.send('with-fallback', {}))).resolves.toBe('cached quote');
  });

  it('@CircuitBreaker: after two failures the circuit opens and the downstream is not called', async () => {
    const rpc = await client(await start());
    downstream.down = true;
    await sendError(rpc, 'guarded');
    await sendError(rpc, 'guarded');
    expect(await sendError(rpc, 'guarded')).toMatchObject({
      code: 'BROKEN_CIRCUIT',
      policy: 'QuotesController.guarded',
    });
    expect(downstream.calls).toBe(2);
  });

  it('@RateLimit: messages share one bucket by default; the third of a limit of 2 is refused', async () => {
    const rpc = await client(await start());
    await expect(firstValueFrom(rpc.send('limited', {}))).resolves.toBe('allowed');
    await expect(firstValueFrom(rpc.send('limited', {}))).resolves.toBe('allowed');
    const refused = (await sendError(rpc, 'limited')) as { code: string; retryAfter: number };
    expect(refused).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', policy: 'QuotesController.limited' });
    expect(refused.retryAfter).toBeGreaterThan(0);
  });

  it('@Retry on an event handler: the event is handled again until it succeeds', async () => {
    const rpc = await client(await start());
    downstream.failures = 2;
    await firstValueFrom(rpc.emit('order-placed', 'order-1'));
    await vi.waitFor(() => expect(downstream.calls).toBe(3));
    expect(events).toEqual(['order-1', 'order-1', 'order-1']);
  });
}

describe('microservice over TCP, started alone (NestFactory.createMicroservice)', () => {
  behavesResiliently(async () => {
    const port = await freePort();
    const app: INestMicroservice = await NestFactory.createMicroservice(AppModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    opened.push(app);
    return port;
  });
});

describe('hybrid app in the order the Nest docs show (connectMicroservice, startAllMicroservices, listen)', () => {
  behavesResiliently(async () => {
    const port = await freePort();
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    opened.push(app);
    return port;
  });

  it('applies the same policies to its HTTP routes', async () => {
    const port = await freePort();
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    opened.push(app);
    downstream.failures = 2;
    const response = await request(app.getHttpServer() as Parameters<typeof request>[0]).get('/flaky');
    expect(response.status).toBe(200);
    expect(response.text).toBe('http #3');
  });
});

/**
 * A resilience error thrown by a decorated service into an undecorated handler is answered by the module's global
 * exception filter, which Nest applies to a microservice started alone, and to a hybrid app's microservice only when
 * it inherits the app's configuration (`inheritAppConfig: true`, as for every global guard, pipe and filter).
 */
describe.each([
  [
    'started alone',
    async (port: number) => {
      const app = await NestFactory.createMicroservice(AppModule, {
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port },
        logger: false,
      });
      await app.listen();
      return app;
    },
  ],
  [
    'connected to a hybrid app with inheritAppConfig',
    async (port: number) => {
      const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
      app.connectMicroservice(
        { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
        { inheritAppConfig: true },
      );
      await app.startAllMicroservices();
      await app.listen(0, '127.0.0.1');
      return app;
    },
  ],
])('an undecorated message handler calling a decorated service, %s', (_, start) => {
  it('answers TIMEOUT with the service policy when the service times out (as HTTP answers 504)', async () => {
    const port = await freePort();
    opened.push(await start(port));
    const rpc = await client(port);
    downstream.hanging = true;
    expect(await sendError(rpc, 'from-service')).toEqual({
      status: 'error',
      code: 'TIMEOUT',
      policy: 'QuoteSource.fetch',
      message: expect.stringContaining('50 ms') as unknown,
    });
  });
});
