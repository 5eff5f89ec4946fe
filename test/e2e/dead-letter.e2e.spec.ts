import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CircuitBreaker,
  DeadLetter,
  MemoryDeadLetterStore,
  ResilienceConfigError,
  ResilienceModule,
  ResilienceRegistry,
  Retry,
  type DeadLetterStore,
} from '../../lib/index.js';

const downstream = { up: false, calls: [] as unknown[] };

class NotFound extends Error {}

@Injectable()
class Mailer {
  @DeadLetter({ when: (error) => !(error instanceof NotFound) })
  @Retry({ maxAttempts: 2, initialDelay: 1, jitter: 'none' })
  async send(to: string, subject: string): Promise<string> {
    downstream.calls.push([to, subject]);
    if (to === 'nobody') throw new NotFound('no such recipient');
    if (!downstream.up) throw new Error('smtp down');
    return `sent to ${to}`;
  }

  @DeadLetter('notices', { openCircuitLimit: 10_000 })
  @CircuitBreaker({ consecutiveFailures: 1, openDuration: 5_000 })
  async notice(id: number): Promise<void> {
    downstream.calls.push(id);
    if (!downstream.up) throw new Error('notices down');
  }

  @DeadLetter('alerts')
  @CircuitBreaker({ consecutiveFailures: 1, openDuration: 60_000 })
  async alert(id: number): Promise<void> {
    downstream.calls.push(id);
    if (!downstream.up) throw new Error('alerts down');
  }
}

const opened: TestingModule[] = [];

async function boot(deadLetterStore?: DeadLetterStore): Promise<{ mailer: Mailer; registry: ResilienceRegistry }> {
  @Module({ imports: [ResilienceModule.forRoot({ deadLetterStore })], providers: [Mailer] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await moduleRef.init();
  opened.push(moduleRef);
  return { mailer: moduleRef.get(Mailer), registry: moduleRef.get(ResilienceRegistry) };
}

afterEach(async () => {
  for (const moduleRef of opened.splice(0)) await moduleRef.close();
  downstream.up = false;
  downstream.calls = [];
  vi.useRealTimers();
});

describe('@DeadLetter on provider methods (memory store)', () => {
  it('stores the call with its arguments and resolves undefined; replay calls the method with them', async () => {
    const { mailer, registry } = await boot();
    await expect(mailer.send('ann@example.com', 'invoice')).resolves.toBeUndefined();
    expect(downstream.calls).toHaveLength(2);
    const [letter] = await registry.deadLetters.list('Mailer.send');
    expect(letter).toMatchObject({ pattern: 'Mailer.send', args: ['ann@example.com', 'invoice'], attempts: 2 });
    downstream.up = true;
    await expect(registry.deadLetters.replay('Mailer.send', letter.id)).resolves.toMatchObject({
      outcome: 'succeeded',
    });
    expect(downstream.calls.at(-1)).toEqual(['ann@example.com', 'invoice']);
    await expect(registry.deadLetters.list('Mailer.send')).resolves.toEqual([]);
  });

  it('lets errors that `when` rejects through, and stores nothing', async () => {
    const { mailer, registry } = await boot();
    await expect(mailer.send('nobody', 'x')).rejects.toThrow('no such recipient');
    await expect(registry.deadLetters.list('Mailer.send')).resolves.toEqual([]);
  });

  it('fails a call rejected by a circuit that reopens within openCircuitLimit, dead-letters a longer one', async () => {
    const { mailer, registry } = await boot();
    await mailer.notice(1); // the failure itself: dead-lettered
    await expect(mailer.notice(2)).rejects.toMatchObject({ code: 'BROKEN_CIRCUIT' }); // open 5 s < 10 s: redeliver
    expect((await registry.deadLetters.list('notices')).map((letter) => letter.args)).toEqual([[1]]);
    await mailer.alert(1);
    await expect(mailer.alert(2)).resolves.toBeUndefined(); // open 60 s > 30 s: dead-lettered
    expect((await registry.deadLetters.list('alerts')).map((letter) => letter.error.code)).toEqual([
      undefined,
      'BROKEN_CIRCUIT',
    ]);
  });

  it('keeps at most maxLettersPerQueue letters, dropping the oldest', async () => {
    const { mailer, registry } = await boot(new MemoryDeadLetterStore({ maxLettersPerQueue: 2 }));
    for (const to of ['a', 'b', 'c']) await mailer.send(to, 's');
    expect((await registry.deadLetters.list('Mailer.send')).map((letter) => letter.args[0])).toEqual(['b', 'c']);
  });

  it('fails the call with its own error when the store cannot take the letter', async () => {
    const broken = new MemoryDeadLetterStore();
    broken.add = () => Promise.reject(new Error('store down'));
    const { mailer, registry } = await boot(broken);
    await expect(mailer.send('ann@example.com', 'invoice')).rejects.toThrow('smtp down');
    expect(registry.deadLetters.snapshots()).toContainEqual({ name: 'Mailer.send', deadLettered: 0, storeErrors: 1 });
  });
});

describe('@DeadLetter replays (memory store)', () => {
  it('a letter whose replay failed is kept, replayable again, and in replay("all")', async () => {
    const { mailer, registry } = await boot();
    await mailer.send('ann@example.com', 'invoice');
    const [letter] = await registry.deadLetters.list('Mailer.send');
    await expect(registry.deadLetters.replay('Mailer.send', letter.id)).resolves.toMatchObject({ outcome: 'failed' });
    const [kept] = await registry.deadLetters.list('Mailer.send');
    expect(kept.replay).toMatchObject({ outcome: 'failed', error: { message: 'smtp down' } });
    await expect(registry.deadLetters.replay('Mailer.send', 'all')).resolves.toEqual([
      { id: letter.id, outcome: 'failed', error: { name: 'Error', message: 'smtp down' } },
    ]);
    downstream.up = true;
    await expect(registry.deadLetters.replay('Mailer.send', 'all')).resolves.toEqual([
      { id: letter.id, outcome: 'succeeded' },
    ]);
    await expect(registry.deadLetters.list('Mailer.send')).resolves.toEqual([]);
  });

  it('the claim of a replayer that crashed expires after replayClaimTtl; until then replays are skipped', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date'] });
    const store = new MemoryDeadLetterStore({ replayClaimTtl: 60_000 });
    const { mailer, registry } = await boot(store);
    await mailer.send('ann@example.com', 'invoice');
    const [letter] = await registry.deadLetters.list('Mailer.send');
    expect(await store.claim('Mailer.send', letter.id)).toBe(true); // a replayer that then crashed
    downstream.up = true;
    await expect(registry.deadLetters.replay('Mailer.send', letter.id)).resolves.toEqual({
      id: letter.id,
      outcome: 'skipped',
    });
    vi.advanceTimersByTime(59_999);
    await expect(registry.deadLetters.replay('Mailer.send', 'all')).resolves.toEqual([
      { id: letter.id, outcome: 'skipped' },
    ]);
    vi.advanceTimersByTime(1);
    await expect(registry.deadLetters.replay('Mailer.send', letter.id)).resolves.toEqual({
      id: letter.id,
      outcome: 'succeeded',
    });
  });
});

describe('dead-letter store bounds are checked at bootstrap', () => {
  const bad: [string, unknown][] = [
    ['0', 0],
    ['a negative number', -5],
    ['NaN', Number.NaN],
    ['a fraction', 2.5],
    ['an empty string (an unset environment variable)', ''],
    ['above the maximum', 1_000_001],
  ];
  it.each(bad)('refuses maxLettersPerQueue %s with a ResilienceConfigError naming it', async (_, value) => {
    @Module({
      imports: [
        ResilienceModule.forRootAsync({
          useFactory: () => ({ deadLetterStore: new MemoryDeadLetterStore({ maxLettersPerQueue: value as number }) }),
        }),
      ],
      providers: [Mailer],
    })
    class AppModule {}
    const error = await Test.createTestingModule({ imports: [AppModule] })
      .compile()
      .then(
        (moduleRef) => moduleRef.init(),
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /Invalid store option "maxLettersPerQueue" = .* for policy "MemoryDeadLetterStore".*integer from 1 to 1,000,000/,
    );
  });

  it('refuses a replayClaimTtl that is not a positive duration', () => {
    expect(() => new MemoryDeadLetterStore({ replayClaimTtl: 0 })).toThrow(ResilienceConfigError);
    expect(() => new MemoryDeadLetterStore({ replayClaimTtl: '' as never })).toThrow(/replayClaimTtl/);
  });
});

describe('@DeadLetter is checked at bootstrap', () => {
  it('refuses an HTTP handler: there is no broker to stop redelivering', async () => {
    @Controller()
    class Web {
      @Get('x')
      @DeadLetter()
      x() {
        return 1;
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [Web] })
    class WebModule {}
    const moduleRef = await Test.createTestingModule({ imports: [WebModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = await app.init().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await app.close().catch(() => undefined);
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toContain('applies to microservice handlers');
  });

  it('refuses a misspelt option with did-you-mean', async () => {
    @Injectable()
    class Typo {
      @DeadLetter({ openCircuitLimt: 5 } as never)
      async run(): Promise<void> {}
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Typo] })
    class TypoModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TypoModule] }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/Unknown dead letter option "openCircuitLimt".*"openCircuitLimit"/);
  });
});
