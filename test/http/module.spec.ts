import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ResilienceConfigError, ResilienceModule, ResilienceRegistry } from 'nest-resilience';
import { InjectHttpClient, ResilientHttpClient, ResilientHttpModule } from 'nest-resilience/http';
import { answer, startUpstream, type Upstream } from './upstream.js';

let upstream: Upstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

@Injectable()
class Orders {
  constructor(@InjectHttpClient('orders') readonly http: ResilientHttpClient) {}

  async first(): Promise<unknown> {
    return (await this.http.get('/orders/1')).json();
  }
}

describe('ResilientHttpModule', () => {
  it('register: @InjectHttpClient(name) gives the client, whose breaker per origin is in the registry', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 200, { id: 1 }));
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot(), ResilientHttpModule.register({ name: 'orders', baseUrl: upstream.origin })],
      providers: [Orders],
    }).compile();
    const app = await moduleRef.init();

    expect(await app.get(Orders).first()).toEqual({ id: 1 });
    expect(app.get(ResilienceRegistry).circuitBreakers.names()).toEqual([`orders ${upstream.origin}`]);
    await app.close();
  });

  it('registerAsync: options from ConfigService, checked at startup', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 200, { id: 1 }));
    const origin = upstream.origin;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot(),
        ResilientHttpModule.registerAsync({
          name: 'orders',
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ ORDERS_URL: origin })] })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ baseUrl: config.getOrThrow<string>('ORDERS_URL') }),
        }),
      ],
      providers: [Orders],
    }).compile();

    expect(await moduleRef.get(Orders).first()).toEqual({ id: 1 });
    await moduleRef.close();

    const bad = Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot(),
        ResilientHttpModule.registerAsync({ name: 'orders', useFactory: () => ({ totalTimeout: -1 }) }),
      ],
    }).compile();
    await expect(bad).rejects.toThrow('Invalid http client option "totalTimeout" = -1');
  });

  it('register refuses bad options at once, naming the option, value and type', () => {
    expect(() => ResilientHttpModule.register({ name: 'orders', retry: { jitter: 'ful' as 'full' } })).toThrow(
      ResilienceConfigError,
    );
    expect(() => ResilientHttpModule.register([{ name: 'a' }, { name: 'a' }])).toThrow('two clients are called "a"');
  });

  it('an unknown client name fails at startup, naming it', async () => {
    const compiling = Test.createTestingModule({
      imports: [ResilienceModule.forRoot(), ResilientHttpModule.register({ name: 'order' })],
      providers: [Orders],
    }).compile();
    await expect(compiling).rejects.toThrow('ResilientHttpClient(orders)');
  });

  it('without ResilienceModule the client refuses to start, saying what is missing', async () => {
    @Module({ imports: [ResilientHttpModule.register({ name: 'orders' })], providers: [Orders] })
    class AppModule {}
    await expect(Test.createTestingModule({ imports: [AppModule] }).compile()).rejects.toThrow(
      'needs ResilienceModule.forRoot()',
    );
  });
});
