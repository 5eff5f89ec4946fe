/**
 * Measuring sticks for the HTTP benchmark, not policies: the least the library's work could cost, written inline.
 *
 * `MinimalController`: the floor of the six decorators' design, an interceptor that puts one Observable of its own
 * around `next.handle()` and a guard that sets the three rate-limit headers (constants) and lets everything through.
 *
 * `SixStandInsController`: both stand-ins below on one route, the least all six decorators' happy path could cost
 * written inline in the design the issue asks for (the policies in an interceptor, the rate limit in a guard).
 *
 * `FusedStandInController`: the least the five interceptor policies' happy path could cost if one object did all of
 * it. Per request, one Map read for the handler's state, a concurrency count (the
 * bulkhead), an open flag (the breaker) and a success count, one node appended to and removed from a deadline list
 * (the timeout; no clock read, no timer work), and one Subscriber passing the answer on. No retry, no fallback, no
 * events, no error mapping: what the real policies add beyond this row is the price of their generality.
 *
 * `IdempotentStandInController`: the least `@Idempotent` with the memory store could cost on a POST with a new
 * `Idempotency-Key`, written inline: the key header read, a fingerprint (method, URL and the body's JSON), one Map
 * read and one lease record set, and when the handler answers its status, body and content type kept as JSON text,
 * the oldest record dropped past 10,000 (the library's default bound). No key validation, no scope, no fencing token,
 * no lease expiry, no client that leaves: what `@Idempotent` adds beyond this row is the price of its guarantees.
 */
import { ServerResponse } from 'node:http';
import {
  Controller,
  Get,
  ConflictException,
  Injectable,
  Post,
  Body,
  UnprocessableEntityException,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable, Subscriber, of, throwError } from 'rxjs';

/** What both stand-in guards write headers on: Node's response (Express) or Fastify's reply. */
type HeaderTarget = ServerResponse | { header(name: string, value: string): void };

/**
 * Sets a header the way the library's rate-limit guard does: on Node's response directly (Express's `res.header` is
 * `res.set`, which adds work), through `reply.header` on Fastify.
 */
function setHeader(response: HeaderTarget, name: string, value: string): void {
  if (response instanceof ServerResponse) response.setHeader(name, value);
  else response.header(name, value);
}

@Injectable()
class MinimalInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return new Observable((subscriber) => next.handle().subscribe(subscriber));
  }
}

@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const response = context.getArgByIndex<HeaderTarget>(1);
    setHeader(response, 'ratelimit-limit', '1000000000');
    setHeader(response, 'ratelimit-remaining', '999999999');
    setHeader(response, 'ratelimit-reset', '1');
    return true;
  }
}

@Controller()
@UseGuards(HeaderGuard)
@UseInterceptors(MinimalInterceptor)
export class MinimalController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

interface DeadlineNode {
  older?: DeadlineNode;
  newer?: DeadlineNode;
}

/** What the five policies keep per handler, all in one object. */
class HandlerState {
  active = 0;
  readonly maxConcurrent = 1000;
  open = false;
  successes = 0;
  oldest?: DeadlineNode;
  newest?: DeadlineNode;
}

/** One request: the deadline node and the Subscriber of `next.handle()` in one object. */
class StandInCall extends Subscriber<unknown> implements DeadlineNode {
  older?: DeadlineNode = undefined;
  newer?: DeadlineNode = undefined;

  constructor(
    private readonly state: HandlerState,
    private readonly outer: Subscriber<unknown>,
  ) {
    super();
    state.active++;
    if (state.newest === undefined) state.oldest = this;
    else {
      state.newest.newer = this;
      this.older = state.newest;
    }
    state.newest = this;
  }

  protected override _next(value: unknown): void {
    this.outer.next(value);
  }

  protected override _error(error: unknown): void {
    this.finish();
    this.outer.error(error);
  }

  protected override _complete(): void {
    this.finish();
    this.state.successes++;
    this.outer.complete();
  }

  private finish(): void {
    const { state } = this;
    state.active--;
    if (this.older === undefined) state.oldest = this.newer;
    else this.older.newer = this.newer;
    if (this.newer === undefined) state.newest = this.older;
    else this.newer.older = this.older;
  }
}

const states = new Map<object, HandlerState>();

@Injectable()
export class FusedStandInInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    let state = states.get(context.getHandler());
    if (state === undefined) states.set(context.getHandler(), (state = new HandlerState()));
    const handlerState = state;
    return new Observable((outer) => {
      if (handlerState.open || handlerState.active >= handlerState.maxConcurrent) {
        outer.error(new Error('refused'));
        return undefined;
      }
      return next.handle().subscribe(new StandInCall(handlerState, outer));
    });
  }
}

@Controller()
@UseInterceptors(FusedStandInInterceptor)
export class FusedStandInController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/** A token bucket of the stand-in guard: refilled by elapsed time on each request, like the library's. */
interface StandInBucket {
  tokens: number;
  updatedAt: number;
}

const LIMIT = 1e9;
const LIMIT_HEADER = String(LIMIT);
const buckets = new Map<string, StandInBucket>();

/**
 * The least a rate-limit guard with the library's answer could cost: the client's socket address as the key, one
 * token bucket refilled from `Date.now()`, and the three `RateLimit-*` headers with the bucket's own values, all in
 * one function (no store, no plan, no limit objects).
 */
@Injectable()
export class RateLimitStandInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.getArgByIndex<{ socket: { remoteAddress?: string } }>(0);
    const response = context.getArgByIndex<HeaderTarget>(1);
    const key = request.socket.remoteAddress ?? 'unknown';
    const now = Date.now();
    let bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, (bucket = { tokens: LIMIT, updatedAt: now }));
    bucket.tokens = Math.min(LIMIT, bucket.tokens + ((now - bucket.updatedAt) * LIMIT) / 1000);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const remaining = String(Math.floor(bucket.tokens));
    const reset = String(Math.ceil((LIMIT - bucket.tokens) / LIMIT));
    setHeader(response, 'ratelimit-limit', LIMIT_HEADER);
    setHeader(response, 'ratelimit-remaining', remaining);
    setHeader(response, 'ratelimit-reset', reset);
    return allowed;
  }
}

@Controller()
@UseGuards(RateLimitStandInGuard)
export class RateLimitStandInController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/** Both stand-ins on one route: the inline happy path of all six decorators, as an interceptor and a guard. */
@Controller()
@UseGuards(RateLimitStandInGuard)
@UseInterceptors(FusedStandInInterceptor)
export class SixStandInsController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/** The stand-in's records: the request's fingerprint, and the answer once the handler gave it. */
interface StandInRecord {
  readonly fingerprint: string;
  answer: string | undefined;
}
const IDEMPOTENCY_RECORDS = 10_000;
const records = new Map<string, StandInRecord>();

interface StandInRequest {
  method: string;
  url: string;
  body: unknown;
  headers: Record<string, string | undefined>;
}

@Injectable()
class IdempotentStandInInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.getArgByIndex<StandInRequest>(0);
    const key = request.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    const fingerprint = `${request.method} ${request.url} ${JSON.stringify(request.body)}`;
    const found = records.get(key);
    if (found !== undefined) {
      if (found.fingerprint !== fingerprint) return throwError(() => new UnprocessableEntityException());
      if (found.answer === undefined) return throwError(() => new ConflictException());
      return of((JSON.parse(found.answer) as { body: unknown }).body);
    }
    const record: StandInRecord = { fingerprint, answer: undefined };
    records.set(key, record);
    if (records.size > IDEMPOTENCY_RECORDS) records.delete(records.keys().next().value!);
    const response = context.getArgByIndex<{ statusCode: number; getHeader(name: string): unknown }>(1);
    return new Observable((subscriber) =>
      next.handle().subscribe({
        next(value) {
          const type = response.getHeader('content-type');
          record.answer =
            `{"status":${response.statusCode},"body":${JSON.stringify(value)}` +
            (type === undefined ? '}' : `,"headers":{"content-type":${JSON.stringify(type)}}}`);
          subscriber.next(value);
        },
        error(error: unknown) {
          records.delete(key);
          subscriber.error(error);
        },
        complete() {
          subscriber.complete();
        },
      }),
    );
  }
}

interface Payment {
  amount: number;
  currency: string;
}

/** POST /pay with the idempotency stand-in: the floor of `@Idempotent` (memory). */
@Controller()
@UseInterceptors(IdempotentStandInInterceptor)
export class IdempotentStandInController {
  @Post('pay')
  pay(@Body() body: Payment) {
    return { paid: body.amount, currency: body.currency };
  }
}
