import {
  Body,
  Controller,
  Next,
  Res,
  ForbiddenException,
  Injectable,
  ParseIntPipe,
  Post,
  RequestTimeoutException,
  UseGuards,
  UseInterceptors,
  Module,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, finalize, from, map, race, throwError, timeout, timer, TimeoutError, type Observable } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Test } from '@nestjs/testing';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  Idempotent,
  MemoryIdempotencyStore,
  ResilienceConfigError,
  ResilienceModule,
  ResilienceRegistry,
} from '../../lib/index.js';
import { PLATFORMS, type Platform } from './http-harness.js';
import { freshKey, listen, type ListeningApp } from './idempotency-listen.js';

const calls: Record<string, number> = {};
const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);

/** The handlers' work waits on this gate, which the test opens once the client has gone. */
let gate: { promise: Promise<void>; open: () => void };
const newGate = () => {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  gate = { promise, open };
};

/** Nest's documented TimeoutInterceptor (RxJS `timeout()`), with a short deadline. */
@Injectable()
class TimeoutInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout(50),
      catchError((error: unknown) =>
        throwError(() => (error instanceof TimeoutError ? new RequestTimeoutException() : error)),
      ),
    );
  }
}

/** Answers "queued" when the handler takes longer than 50 ms (`race`), leaving the handler's own answer behind. */
@Injectable()
class RaceInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return race(next.handle(), timer(50).pipe(map(() => ({ queued: true }))));
  }
}

/** Counts the moment Nest tears the chain down (the client went away). */
@Injectable()
class TeardownWatcher implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(finalize(() => count('torn-down')));
  }
}

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    if (request.headers['x-allow'] !== 'yes') throw new ForbiddenException('not allowed yet');
    return true;
  }
}

async function work(name: string): Promise<{ id: string }> {
  count(`${name}:started`);
  await gate.promise;
  return { id: `${name}_${count(name)}` };
}

// `@Idempotent()` written above `@UseInterceptors(...)`: decorators apply from the bottom up and Nest runs a method's
// interceptors in the order they were added, so the user's interceptor is the outer one, as a global or class-level
// interceptor would be.
@Controller()
class OrdersController {
  @Post('timed-out')
  @Idempotent()
  @UseInterceptors(TimeoutInterceptor)
  timedOut() {
    return work('timed-out');
  }

  @Post('raced')
  @Idempotent()
  @UseInterceptors(RaceInterceptor)
  raced() {
    return work('raced');
  }

  @Post('observable')
  @Idempotent()
  @UseInterceptors(TeardownWatcher)
  observable() {
    count('observable:started');
    return from(gate.promise).pipe(map(() => ({ id: `observable_${count('observable')}` })));
  }

  @Post('validated')
  @Idempotent()
  validated(@Body('amount', ParseIntPipe) amount: number) {
    return { amount, calls: count('validated') };
  }

  @Post('guarded')
  @UseGuards(AllowGuard)
  @Idempotent()
  guarded() {
    return { calls: count('guarded') };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [OrdersController] })
class AppModule {}

describe.each(PLATFORMS)('@Idempotent on %s, whoever still listens', (platform) => {
  let app: ListeningApp;

  beforeAll(async () => {
    app = await listen(platform, AppModule);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    for (const name of Object.keys(calls)) delete calls[name];
    newGate();
  });

  it("stores the handler's answer after an outer timeout() answered 408: the retry is replayed", async () => {
    const headers = freshKey('timeout');
    const first = await app.send('/timed-out', { body: { amount: 1 }, headers });
    expect(first.status).toBe(408);
    gate.open();
    // The handler finishes after its client got the 408; the retry receives that answer, the work ran once.
    await vi.waitFor(async () => {
      const retry = await app.send('/timed-out', { body: { amount: 1 }, headers });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual({ id: 'timed-out_1' });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    });
    expect(calls['timed-out:started']).toBe(1);
    expect(calls['timed-out']).toBe(1);
  });

  it('counts in registry.idempotency: running while its client is gone, a 409 meanwhile, then the replay', async () => {
    const stats = () => app.app.get(ResilienceRegistry).idempotency.get('OrdersController.timedOut').snapshot();
    const before = stats();
    const headers = freshKey('counted');
    expect((await app.send('/timed-out', { body: { amount: 1 }, headers })).status).toBe(408);
    expect(stats()).toMatchObject({ inFlight: 1, executed: before.executed + 1 });
    expect((await app.send('/timed-out', { body: { amount: 1 }, headers })).status).toBe(409);
    expect(stats().conflicts).toBe(before.conflicts + 1);
    gate.open();
    await vi.waitFor(() => expect(stats().inFlight).toBe(0));
    expect((await app.send('/timed-out', { body: { amount: 1 }, headers })).headers.get('idempotent-replayed')).toBe(
      'true',
    );
    expect(stats()).toMatchObject({ executed: before.executed + 1, replayed: before.replayed + 1, mismatches: 0 });
  });

  it("stores the handler's answer when an outer race() answered first", async () => {
    const headers = freshKey('race');
    const first = await app.send('/raced', { body: {}, headers });
    expect(first.body).toEqual({ queued: true });
    gate.open();
    await vi.waitFor(async () => {
      const retry = await app.send('/raced', { body: {}, headers });
      expect(retry.body).toEqual({ id: 'raced_1' });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    });
    expect(calls['raced:started']).toBe(1);
  });

  it('stores the answer of an Observable handler whose client disconnected mid-request', async () => {
    const headers = freshKey('disconnect');
    const client = new AbortController();
    const first = app.send('/observable', { body: {}, headers, signal: client.signal });
    await vi.waitFor(() => expect(calls['observable:started']).toBe(1));
    client.abort();
    await expect(first).rejects.toThrow();
    // Nest unsubscribes the interceptors once the socket closes; the handler's work goes on all the same.
    await vi.waitFor(() => expect(calls['torn-down']).toBe(1));
    gate.open();
    await vi.waitFor(async () => {
      const retry = await app.send('/observable', { body: {}, headers });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual({ id: 'observable_1' });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    });
    expect(calls['observable:started']).toBe(1);
  });

  it('stores nothing when a pipe refused the request: the corrected body runs under the same key', async () => {
    const headers = freshKey('pipe');
    const refused = await app.send('/validated', { body: { amount: 'ten' }, headers });
    expect(refused.status).toBe(400);
    const corrected = await app.send('/validated', { body: { amount: '10' }, headers });
    expect(corrected).toMatchObject({ status: 201, body: { amount: 10, calls: 1 } });
    const again = await app.send('/validated', { body: { amount: '10' }, headers });
    expect(again).toMatchObject({ status: 201, body: { amount: 10, calls: 1 } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('stores nothing when a guard refused the request: the same key runs once allowed', async () => {
    const headers = freshKey('guard');
    const refused = await app.send('/guarded', { body: {}, headers });
    expect(refused.status).toBe(403);
    const allowed = await app.send('/guarded', { body: {}, headers: { ...headers, 'x-allow': 'yes' } });
    expect(allowed).toMatchObject({ status: 201, body: { calls: 1 } });
  });
});

/** What an Express response and a Fastify reply both offer for writing an answer by hand. */
interface HandWritten {
  status(code: number): HandWritten;
  send(body: string): unknown;
  header(name: string, value: string): unknown;
}

@Controller()
class HandWrittenController {
  @Post('returns-response')
  @Idempotent()
  returnsResponse(@Res({ passthrough: true }) response: HandWritten) {
    response.header('content-type', 'application/json');
    response.status(200).send(JSON.stringify({ calls: count('returns-response') }));
    return response;
  }

  @Post('held')
  @Idempotent()
  held() {
    return work('held');
  }
}

async function bootstrapError(platform: Platform, controller: new (...args: never[]) => unknown): Promise<unknown> {
  @Module({ imports: [ResilienceModule.forRoot()], controllers: [controller] })
  class RefusedModule {}
  const moduleRef = await Test.createTestingModule({ imports: [RefusedModule] }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: false,
  });
  try {
    await app.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await app.close().catch(() => undefined);
  }
}

describe.each(PLATFORMS)('@Idempotent on %s and the response object', (platform) => {
  it('refuses at bootstrap a handler that answers through @Res() or @Next() without passthrough', async () => {
    @Controller()
    class ResController {
      @Post('pay')
      @Idempotent()
      pay(@Res() response: HandWritten) {
        response.status(201).send('{}');
      }
    }
    @Controller()
    class NextController {
      @Post('pay')
      @Idempotent()
      pay(@Next() next: () => void) {
        next();
      }
    }
    const refused = await bootstrapError(platform, ResController);
    expect(refused).toBeInstanceOf(ResilienceConfigError);
    const { message } = refused as Error;
    expect(message).toMatch(
      /@Idempotent on ResController\.pay: the handler answers through @Res\(\) without passthrough/,
    );
    expect(message).toMatch(/return the body instead/);
    expect((await bootstrapError(platform, NextController)) as Error).toBeInstanceOf(ResilienceConfigError);
  });

  it('stores nothing for a handler that returns the response it wrote: the retry runs, never hangs', async () => {
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [HandWrittenController] })
    class HandWrittenModule {}
    const app = await listen(platform, HandWrittenModule);
    try {
      delete calls['returns-response'];
      const headers = freshKey('returns-response');
      const first = await app.send('/returns-response', { body: {}, headers });
      expect(first).toMatchObject({ status: 200, body: { calls: 1 } });
      const second = await app.send('/returns-response', { body: {}, headers });
      expect(second).toMatchObject({ status: 200, body: { calls: 2 } });
      expect(second.headers.get('idempotent-replayed')).toBeNull();
    } finally {
      await app.close();
    }
  });
});

describe.each(PLATFORMS)('the memory store full of requests in flight, on %s', (platform) => {
  it('never evicts a live lease: a new key gets 503 until an answer makes room', async () => {
    @Module({
      imports: [ResilienceModule.forRoot({ idempotencyStore: new MemoryIdempotencyStore({ maxEntries: 2 }) })],
      controllers: [HandWrittenController],
    })
    class FullModule {}
    const app = await listen(platform, FullModule);
    try {
      for (const name of Object.keys(calls)) delete calls[name];
      newGate();
      const [one, two, three] = [freshKey('one'), freshKey('two'), freshKey('three')];
      const running = [app.send('/held', { body: {}, headers: one }), app.send('/held', { body: {}, headers: two })];
      await vi.waitFor(() => expect(calls['held:started']).toBe(2));
      const refused = await app.send('/held', { body: {}, headers: three });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
      // The two leases were kept: their keys are still in flight, not run a second time.
      expect((await app.send('/held', { body: {}, headers: one })).status).toBe(409);
      gate.open();
      expect((await Promise.all(running)).map((answer) => answer.status)).toEqual([201, 201]);
      const admitted = await app.send('/held', { body: {}, headers: three });
      expect(admitted.status).toBe(201);
      expect(calls['held:started']).toBe(3);
    } finally {
      await app.close();
    }
  });
});

@Controller()
class DocumentsController {
  @Post('documents')
  @Idempotent()
  store(@Body() body: unknown) {
    return { calls: count('documents'), body };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [DocumentsController] })
class DocumentsModule {}

describe.each(PLATFORMS)('@Idempotent on %s and a body no parser read', (platform) => {
  const text = (body: string, headers: Record<string, string>, type = 'text/plain') => ({
    body,
    headers: { ...headers, 'content-type': type },
  });

  it('never replays one payload for another: a clear 415 on Express, a 422 once a parser reads it', async () => {
    const bare = await listen(platform, DocumentsModule);
    try {
      for (const name of Object.keys(calls)) delete calls[name];
      const headers = freshKey('text');
      const first = await bare.send('/documents', text('<order>1</order>', headers));
      const other = await bare.send('/documents', text('<order>2</order>', headers));
      if (platform === 'express') {
        // Express has no text parser by default: the body is still in the stream, so it is refused, never run.
        expect(first.status).toBe(415);
        expect(first.body).toMatchObject({ code: 'IDEMPOTENCY_BODY_UNREAD', policy: 'DocumentsController.store' });
        expect(first.headers.get('content-type')).toContain('application/problem+json');
        expect(other.status).toBe(415);
        expect(calls.documents).toBeUndefined();
        // Under any key: the refusal is about the body, not the key.
        const untyped = await bare.send('/documents', { body: 'x', headers: freshKey('untyped') });
        expect(untyped.status).toBe(415);
      } else {
        // Fastify reads text/plain as a string: the second payload is another request.
        expect(first.status).toBe(201);
        expect(other.status).toBe(422);
        // and refuses a type it has no parser for itself, before any handler.
        const binary = await bare.send('/documents', text('\u0001\u0002', freshKey('bin'), 'application/octet-stream'));
        expect(binary.status).toBe(415);
        expect(calls.documents).toBe(1);
      }
    } finally {
      await bare.close();
    }
    if (platform !== 'express') return;
    const parsed = await listen(platform, DocumentsModule, (app) =>
      (app as NestExpressApplication).useBodyParser('text', { type: ['text/plain', 'application/xml'] }),
    );
    try {
      const headers = freshKey('parsed');
      expect((await parsed.send('/documents', text('<order>1</order>', headers))).status).toBe(201);
      expect((await parsed.send('/documents', text('<order>2</order>', headers))).status).toBe(422);
      const replayed = await parsed.send('/documents', text('<order>1</order>', headers));
      expect(replayed).toMatchObject({ status: 201, body: { body: '<order>1</order>' } });
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      await parsed.close();
    }
  });
});
