import {
  Body,
  Controller,
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
import { Idempotent, ResilienceModule } from '../../lib/index.js';
import { PLATFORMS } from './http-harness.js';
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
