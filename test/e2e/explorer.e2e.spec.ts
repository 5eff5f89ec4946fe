import { Controller, Get, HttpException, Injectable, Module, Scope, SetMetadata } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { firstValueFrom, isObservable, Observable, of, defer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Fallback, ResilienceModule, Retry, Timeout, type ResilienceModuleOptions } from '../../lib/index.js';
import { createTestApp } from './http-harness.js';

const fastRetry = { maxAttempts: 3, initialDelay: 0 } as const;

abstract class BaseClient {
  calls = 0;

  @Retry(fastRetry)
  async inherited(): Promise<string> {
    this.calls++;
    if (this.calls < 3) throw new Error('flaky');
    return `${this.constructor.name} after ${this.calls}`;
  }
}

@Injectable()
class InventoryClient extends BaseClient {
  private readonly prefix = 'item';

  @Retry(fastRetry)
  @SetMetadata('audit', 'inventory-read')
  async find(id: number): Promise<string> {
    this.calls++;
    if (this.calls < 2) throw new Error('flaky');
    return `${this.prefix}-${id}`;
  }

  @Retry(fastRetry)
  stream(): Observable<string> {
    return defer(() => {
      this.calls++;
      return this.calls < 2 ? Promise.reject(new Error('flaky')) : Promise.resolve('streamed');
    });
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedClient {
  calls = 0;

  @Retry(fastRetry)
  async get(): Promise<number> {
    this.calls++;
    if (this.calls < 3) throw new Error('flaky');
    return this.calls;
  }
}

@Module({ providers: [InventoryClient, RequestScopedClient] })
class InventoryModule {}

async function boot(options: ResilienceModuleOptions = {}) {
  @Module({ imports: [ResilienceModule.forRoot(options), InventoryModule] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('provider methods', () => {
  it('are wrapped in feature modules, keeping `this`, the name and other metadata', async () => {
    const moduleRef = await boot();
    const client = moduleRef.get(InventoryClient);
    await expect(client.find(7)).resolves.toBe('item-7');
    expect(client.calls).toBe(2);
    expect(client.find.name).toBe('find');
    expect(Reflect.getMetadata('audit', client.find)).toBe('inventory-read');
    await moduleRef.close();
  });

  it('are wrapped when inherited from a base class', async () => {
    const moduleRef = await boot();
    await expect(moduleRef.get(InventoryClient).inherited()).resolves.toBe('InventoryClient after 3');
    await moduleRef.close();
  });

  it('are wrapped on request-scoped providers', async () => {
    const original = RequestScopedClient.prototype.get;
    const moduleRef = await boot();
    const client = await moduleRef.resolve(RequestScopedClient, ContextIdFactory.create());
    await expect(client.get()).resolves.toBe(3);
    expect(client).toBeInstanceOf(RequestScopedClient);
    // The class itself is never changed: an instance made outside the app has no policies, before or after close.
    expect(RequestScopedClient.prototype.get).toBe(original);
    await expect(new RequestScopedClient().get()).rejects.toThrow('flaky');
    await moduleRef.close();
    expect(RequestScopedClient.prototype.get).toBe(original);
  });

  it('refuse at bootstrap a synchronous method, whose callers would silently get a Promise', async () => {
    @Injectable()
    class Calculator {
      @Retry(fastRetry)
      add(a: number, b: number): number {
        return a + b;
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Calculator] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await expect(moduleRef.init()).rejects.toThrow(
      'Calculator.add has resilience decorators but is not declared asynchronous',
    );
  });

  it('keep an Observable method lazy, with each subscription a new call', async () => {
    const moduleRef = await boot();
    const client = moduleRef.get(InventoryClient);
    const result = client.stream();
    expect(isObservable(result)).toBe(true);
    expect(client.calls).toBe(0);
    await expect(firstValueFrom(result)).resolves.toBe('streamed');
    expect(client.calls).toBe(2);
    await expect(firstValueFrom(result)).resolves.toBe('streamed');
    expect(client.calls).toBe(3);
    await moduleRef.close();
  });

  it('explain at bootstrap how to fix an Observable method whose return type is not declared', async () => {
    @Injectable()
    class Feed {
      @Retry(fastRetry)
      undeclared() {
        return of('value');
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Feed] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await expect(moduleRef.init()).rejects.toThrow('(or its return type Promise<T> or Observable<T>)');
  });

  it('follow the options of their own app when two apps share a process', async () => {
    @Injectable()
    class Counter {
      calls = 0;
      @Retry('shared')
      async fail(): Promise<void> {
        this.calls++;
        throw new Error('down');
      }
    }
    const bootWith = async (maxAttempts: number) => {
      @Module({
        imports: [ResilienceModule.forRoot({ retries: { shared: { maxAttempts, initialDelay: 0 } } })],
        providers: [Counter],
      })
      class AppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      return moduleRef.init();
    };
    const [first, second] = [await bootWith(2), await bootWith(4)];
    await Promise.allSettled([first.get(Counter).fail(), second.get(Counter).fail()]);
    expect([first.get(Counter).calls, second.get(Counter).calls]).toEqual([2, 4]);
    await Promise.all([first.close(), second.close()]);
  });
});

describe('composition', () => {
  it('follows the canonical order whatever order the decorators are written in', async () => {
    @Injectable()
    class Quotes {
      attempts = 0;
      // Written inside out on purpose: Fallback innermost, Timeout outermost.
      @Timeout(50)
      @Retry({ maxAttempts: 3, initialDelay: 0 })
      @Fallback({ value: 'fallback' })
      async quote(): Promise<string> {
        this.attempts++;
        // The first two attempts hang: the per-attempt timeout must fire inside retry, and fallback must wait
        // for retry to give up. In the written order the first timeout would end the call with the fallback.
        if (this.attempts < 3) await new Promise((resolve) => setTimeout(resolve, 1000));
        return `answer from attempt ${this.attempts}`;
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Quotes] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    await expect(moduleRef.get(Quotes).quote()).resolves.toBe('answer from attempt 3');
    await moduleRef.close();
  });
});

describe('controller handlers', () => {
  it('are wrapped once: an always-failing handler is called exactly maxAttempts times', async () => {
    let calls = 0;
    @Controller()
    class AlwaysDown {
      @Get('down')
      @Retry({ maxAttempts: 2, initialDelay: 0 })
      @Timeout(1000)
      down() {
        calls++;
        throw new HttpException('down', 503);
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [AlwaysDown] })
    class AppModule {}
    const testApp = await createTestApp('express', AppModule);
    expect((await testApp.send('GET', '/down')).status).toBe(503);
    expect(calls).toBe(2);
    await testApp.close();
  });
});
