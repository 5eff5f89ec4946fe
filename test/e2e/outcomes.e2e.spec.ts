import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Hedge,
  RateLimit,
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceModule,
  Retry,
  type ResilienceEvent,
  type ResilienceEventOf,
} from '../../lib/index.js';
import { Test } from '@nestjs/testing';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

/** A job whose status turns `done` on the third look (per job id). */
@Injectable()
class Jobs {
  readonly looks = new Map<string, number>();

  look(id: string): { status: string } {
    const looks = (this.looks.get(id) ?? 0) + 1;
    this.looks.set(id, looks);
    return { status: looks >= 3 || id === 'quick' ? 'done' : 'pending' };
  }
}

const pending = (value: unknown) => (value as { status?: string }).status === 'pending';

@Controller('jobs')
class JobsController {
  constructor(private readonly jobs: Jobs) {}

  @Get('retried/:id')
  @Retry('polling')
  retried(@Param('id') id: string) {
    return this.jobs.look(id);
  }

  @Get('hedged/:id')
  @Hedge({ delay: 10_000, maxHedges: 2, hedgeOnResult: pending })
  hedged(@Param('id') id: string) {
    return this.jobs.look(id);
  }

  @Get('failing')
  @Retry({ maxAttempts: 2, initialDelay: 0 })
  failing(): never {
    throw new Error('downstream down');
  }

  @Get('limited')
  @RateLimit({ limit: 1, interval: 60_000 })
  limited() {
    return { ok: true };
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      retries: { polling: { maxAttempts: 3, initialDelay: 0, retryOnResult: pending } },
    }),
  ],
  controllers: [JobsController],
  providers: [Jobs],
})
class AppModule {}

describe.each(PLATFORMS)('outcomes on handlers (%s)', (platform) => {
  let app: TestApp;
  afterEach(() => app.close());

  async function start() {
    app = await createTestApp(platform, AppModule);
    const events = app.app.get(ResilienceEvents);
    const all: ResilienceEvent[] = [];
    events.subscribe((event) => all.push(event));
    return { events, all };
  }

  it('retryOnResult (a named configuration) retries a pending answer until it is done', async () => {
    await start();
    const done = await app.send('GET', '/jobs/retried/a');
    expect(done).toMatchObject({ status: 200, body: { status: 'done' } });
    expect(app.app.get(Jobs).looks.get('a')).toBe(3);
  });

  it('hedgeOnResult starts the next attempt at once after a pending answer', async () => {
    await start();
    const answer = await app.send('GET', '/jobs/hedged/b');
    expect(answer).toMatchObject({ status: 200, body: { status: 'done' } });
    // The hedge delay is 10 s: the two hedges started because each answer before was pending.
    expect(app.app.get(Jobs).looks.get('b')).toBe(3);
  });

  it('reports call-success, call-failure and retry-give-up by name; subscribe() gets no per-call event', async () => {
    const { events, all } = await start();
    const successes: ResilienceEventOf<'call-success'>[] = [];
    const failures: ResilienceEventOf<'call-failure'>[] = [];
    const giveUps: ResilienceEventOf<'retry-give-up'>[] = [];
    events.on('call-success', (event) => successes.push(event));
    events.on('call-failure', (event) => failures.push(event));
    events.on('retry-give-up', (event) => giveUps.push(event));
    expect((await app.send('GET', '/jobs/retried/c')).status).toBe(200);
    expect((await app.send('GET', '/jobs/failing')).status).toBe(500);
    expect(successes).toEqual([
      expect.objectContaining({ policy: 'JobsController.retried', attempts: 3, fallback: false }),
    ]);
    expect(failures).toEqual([
      expect.objectContaining({ policy: 'JobsController.failing', attempts: 2, error: new Error('downstream down') }),
    ]);
    expect(giveUps).toEqual([expect.objectContaining({ policy: 'JobsController.failing', attempts: 2 })]);
    expect(all.map((event) => event.type)).not.toContain('call-success');
    expect(all.map((event) => event.type)).not.toContain('call-failure');
  });
});

describe('retryOnResult at startup', () => {
  it('refuses a non-function predicate in a named configuration: option, value, type, policy', async () => {
    @Module({ imports: [ResilienceModule.forRoot({ retries: { polling: { retryOnResult: 'pending' as never } } })] })
    class BadModule {}
    const error = await Test.createTestingModule({ imports: [BadModule] })
      .compile()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /retry option "retryOnResult" = "pending" for policy "polling".*must be a function, got the string "pending"/,
    );
  });
});
