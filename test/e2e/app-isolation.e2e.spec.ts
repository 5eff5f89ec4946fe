import { Injectable, Module, Scope, type INestApplicationContext } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { ResilienceModule, Retry, Timeout } from '../../lib/index.js';

/** Every decorated method fails, so the number of calls is the number of attempts of the app's `shared` retry. */
abstract class FailingBase {
  calls = 0;

  @Retry('shared')
  async inherited(): Promise<void> {
    this.calls++;
    throw new Error('down');
  }
}

@Injectable()
class SingletonClient extends FailingBase {}

@Injectable({ scope: Scope.TRANSIENT })
class TransientClient extends FailingBase {
  @Retry('shared')
  async own(): Promise<void> {
    this.calls++;
    throw new Error('down');
  }
}

@Injectable()
class TransientConsumer {
  constructor(readonly client: TransientClient) {}
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedClient extends FailingBase {}

@Injectable()
class SlowClient {
  @Timeout(20)
  async hang(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
  }
}

async function boot(maxAttempts: number): Promise<INestApplicationContext> {
  @Module({
    imports: [ResilienceModule.forRoot({ retries: { shared: { maxAttempts, initialDelay: 0 } } })],
    providers: [SingletonClient, TransientClient, TransientConsumer, RequestScopedClient, SlowClient],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  return moduleRef.init();
}

/** Calls of one failing call per kind of provider: singleton (inherited), transient, request-scoped (inherited). */
async function attemptsPerKind(app: INestApplicationContext): Promise<number[]> {
  const singleton = app.get(SingletonClient);
  const transient = app.get(TransientConsumer).client;
  const requestScoped = await app.resolve(RequestScopedClient, ContextIdFactory.create());
  const before = [singleton.calls, transient.calls, requestScoped.calls];
  await Promise.allSettled([singleton.inherited(), transient.own(), requestScoped.inherited()]);
  return [singleton.calls, transient.calls, requestScoped.calls].map((calls, index) => calls - before[index]);
}

describe('two apps in one process', () => {
  it('keep their own policies on singleton, transient, request-scoped providers, also after one closes', async () => {
    const [first, second] = [await boot(2), await boot(4)];
    expect(await attemptsPerKind(first)).toEqual([2, 2, 2]);
    expect(await attemptsPerKind(second)).toEqual([4, 4, 4]);
    await first.close();
    // Nothing of the first app stays behind: the second keeps its policies, inherited methods still work.
    expect(await attemptsPerKind(second)).toEqual([4, 4, 4]);
    await second.close();
    // A later app (e2e suites build one per test) gets its own policies again.
    const third = await boot(3);
    expect(await attemptsPerKind(third)).toEqual([3, 3, 3]);
    await third.close();
  });

  it('leave the classes as they were: an instance made outside any app has no policies', async () => {
    const app = await boot(5);
    const outside = new SingletonClient();
    await expect(outside.inherited()).rejects.toThrow('down');
    expect(outside.calls).toBe(1);
    await app.close();
  });
});

describe('many create/close cycles', () => {
  it('50 apps created, used (a timeout fired) and closed leave no handle and no timer behind', async () => {
    const handlesBefore = process.getActiveResourcesInfo().length;
    for (let cycle = 0; cycle < 50; cycle++) {
      const app = await boot(2);
      await expect(app.get(SlowClient).hang()).rejects.toMatchObject({ code: 'TIMEOUT' });
      await attemptsPerKind(app);
      await app.close();
    }
    // The hanging calls' own 1 s timers are unref'd and belong to the test; wait for them to end.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handlesBefore);
  });
});

describe('decorators without ResilienceModule', () => {
  it('fail at bootstrap, naming the missing import, instead of silently doing nothing', async () => {
    @Injectable()
    class Forgotten {
      @Retry({ maxAttempts: 3 })
      async call(): Promise<void> {}
    }
    @Module({ providers: [Forgotten] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await expect(moduleRef.init()).rejects.toThrow('ResilienceModule is not imported');
  });
});
