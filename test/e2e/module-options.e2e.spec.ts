import { Inject, Injectable, Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  ResilienceEvents,
  ResilienceModule,
  Retry,
  type ResilienceEvent,
  type ResilienceModuleOptions,
} from '../../lib/index.js';

@Injectable()
class Downstream {
  calls: Record<string, number> = {};

  private fail(method: string): never {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    throw new Error(`${method} failed`);
  }

  @Retry({ initialDelay: 0 })
  async libraryDefault(): Promise<void> {
    this.fail('libraryDefault');
  }

  @Retry({ maxAttempts: 2, initialDelay: 0 })
  async inline(): Promise<void> {
    this.fail('inline');
  }

  @Retry('payments', { maxAttempts: 2, initialDelay: 0 })
  async named(): Promise<void> {
    this.fail('named');
  }
}

async function callCounts(moduleImport: ReturnType<typeof ResilienceModule.forRoot>) {
  @Module({ imports: [moduleImport], providers: [Downstream] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await moduleRef.init();
  const downstream = moduleRef.get(Downstream);
  await Promise.allSettled([downstream.libraryDefault(), downstream.inline(), downstream.named()]);
  await moduleRef.close();
  return downstream.calls;
}

describe('ResilienceModule options', () => {
  it('applies library defaults < module defaults < inline options < named configuration', async () => {
    expect(await callCounts(ResilienceModule.forRoot({ retries: { payments: {} } }))).toEqual({
      libraryDefault: 3,
      inline: 2,
      named: 2,
    });
    expect(
      await callCounts(
        ResilienceModule.forRoot({
          defaults: { retry: { maxAttempts: 4, initialDelay: 0 } },
          retries: { payments: { maxAttempts: 5 } },
        }),
      ),
    ).toEqual({ libraryDefault: 4, inline: 2, named: 5 });
  });

  it('takes its options from forRootAsync with useFactory and inject', async () => {
    const CONFIG = Symbol('config');
    @Module({ providers: [{ provide: CONFIG, useValue: { attempts: 6 } }], exports: [CONFIG] })
    class ConfigModule {}
    const calls = await callCounts(
      ResilienceModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { attempts: number }): ResilienceModuleOptions => ({
          retries: { payments: { maxAttempts: config.attempts } },
        }),
      }),
    );
    expect(calls.named).toBe(6);
  });

  it('takes its options from forRootAsync with useClass', async () => {
    @Injectable()
    class ResilienceConfig {
      create(): ResilienceModuleOptions {
        return { defaults: { retry: { maxAttempts: 1 } }, retries: { payments: { maxAttempts: 1 } } };
      }
    }
    const calls = await callCounts(ResilienceModule.forRootAsync({ useClass: ResilienceConfig }));
    expect(calls).toEqual({ libraryDefault: 1, inline: 2, named: 1 });
  });

  it('is global by default: a feature module injects ResilienceEvents without importing the module', async () => {
    @Injectable()
    class Auditor {
      readonly seen: ResilienceEvent[] = [];
      constructor(@Inject(ResilienceEvents) events: ResilienceEvents) {
        events.subscribe((event) => this.seen.push(event));
      }
    }
    @Module({ providers: [Auditor, Downstream] })
    class FeatureModule {}
    @Module({ imports: [ResilienceModule.forRoot({ retries: { payments: {} } }), FeatureModule] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    await moduleRef
      .get(Downstream)
      .inline()
      .catch(() => undefined);
    expect(moduleRef.get(Auditor).seen).toEqual([
      expect.objectContaining({
        type: 'retry',
        policy: 'Downstream.inline',
        target: { className: 'Downstream', methodName: 'inline' },
        attempt: 1,
      }),
      expect.objectContaining({ type: 'retry-give-up', policy: 'Downstream.inline', attempts: 2 }),
    ]);
    await moduleRef.close();
  });

  it('is not global with isGlobal: false', async () => {
    @Injectable()
    class NeedsEvents {
      constructor(readonly events: ResilienceEvents) {}
    }
    @Module({ providers: [NeedsEvents] })
    class FeatureModule {}
    @Module({ imports: [ResilienceModule.forRoot({ isGlobal: false }), FeatureModule] })
    class AppModule {}
    await expect(compile(AppModule)).rejects.toThrow(/can't resolve dependencies of the NeedsEvents/);
  });
});

function compile(rootModule: Type) {
  return Test.createTestingModule({ imports: [rootModule] }).compile();
}
