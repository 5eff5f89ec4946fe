import { Controller, Module, type ExecutionContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule } from '../../lib/index.js';
import { freePort } from './free-port.js';

let handled = 0;

@Controller()
class TenantsController {
  /** Keyed by the message's tenant: a message without one makes the key function return `undefined`. */
  @MessagePattern('quota')
  @RateLimit({
    limit: 10,
    interval: 60_000,
    key: (context: ExecutionContext) => context.switchToRpc().getData<{ tenant?: string }>().tenant as string,
  })
  quota(): string {
    handled++;
    return 'within quota';
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [TenantsController] })
class AppModule {}

describe('a rate-limit key function that returns no key, over TCP', () => {
  let app: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const port = await freePort();
    app = await NestFactory.createMicroservice(AppModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await app.close();
  });

  it('answers the client INVALID_KEY naming the limit, never one shared "undefined" bucket', async () => {
    const refused = await firstValueFrom(client.send('quota', {})).then(
      (value: unknown) => ({ unexpectedValue: value }),
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({
      status: 'error',
      code: 'INVALID_KEY',
      policy: 'TenantsController.quota',
      message: expect.stringContaining('returned undefined') as unknown,
    });
    expect(handled).toBe(0);
    await expect(firstValueFrom(client.send('quota', { tenant: 'ada' }))).resolves.toBe('within quota');
    expect(handled).toBe(1);
  });
});
