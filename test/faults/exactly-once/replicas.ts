import {
  Controller,
  Injectable,
  Module,
  Param,
  Post,
  RequestTimeoutException,
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { catchError, throwError, timeout, TimeoutError, type Observable } from 'rxjs';
import { Idempotent, ResilienceModule, Retry, Timeout, TimeoutSignal } from '../../../lib/index.js';
import { RedisStore } from '../../../lib/redis/index.js';
import { ledger, type ChargeAnswer } from './ledger.js';

/** Each `@Timeout` attempt of the handler, and how many `@Retry` makes. */
export const ATTEMPT_TIMEOUT = 60;
export const MAX_ATTEMPTS = 3;
export const RETRY_DELAY = 10;
/** Constant waits of `RETRY_DELAY`, no jitter: `HANDLER_BOUND` is exact. */
const RETRY = {
  maxAttempts: MAX_ATTEMPTS,
  backoff: 'constant',
  initialDelay: RETRY_DELAY,
  maxDelay: RETRY_DELAY,
  jitter: 'none',
} as const;
/** `onInFlight: { wait }` of the `wait` route. */
export const IN_FLIGHT_WAIT = 300;
/** The `RedisStore`'s `commandTimeout`. */
export const COMMAND_TIMEOUT = 100;
/** The longest the handler's policies may run: every attempt timed out, with the backoffs between. */
export const HANDLER_BOUND = MAX_ATTEMPTS * ATTEMPT_TIMEOUT + (MAX_ATTEMPTS - 1) * RETRY_DELAY;
/**
 * The lease, given explicitly: what `@Idempotent` would derive here (the `@Timeout` deadline of all attempts plus
 * 1 s: 1.2 s) is shorter than a Redis restart plus reconnection takes on a loaded 2-core CI machine, and an answer
 * whose store stays unreachable until its lease ends is lost (a documented limit, not what this test measures).
 */
export const LEASE = 3000;
/** The header a client sets to have the outer interceptor give up after that many ms. */
export const OUTER_TIMEOUT_HEADER = 'x-outer-timeout';

/**
 * Nest's documented `TimeoutInterceptor` (RxJS `timeout()` and a 408), registered globally so it is outside the
 * library's interceptor: when it fires it unsubscribes from the handler's answer. Per request, from a header.
 */
@Injectable()
class OuterTimeoutInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const ms = Number(request.headers[OUTER_TIMEOUT_HEADER]);
    if (!(ms > 0)) return next.handle();
    return next.handle().pipe(
      timeout(ms),
      catchError((error: unknown) =>
        throwError(() => (error instanceof TimeoutError ? new RequestTimeoutException() : error)),
      ),
    );
  }
}

/** The routes of one replica: the same charge, refusing (409) or waiting while another request holds the key. */
function chargeController(replica: string) {
  @Controller('charge')
  class ChargeController {
    @Post('reject/:key')
    @Idempotent({ lease: LEASE })
    @Retry(RETRY)
    @Timeout(ATTEMPT_TIMEOUT)
    reject(@Param('key') key: string, @TimeoutSignal() signal: AbortSignal): Promise<ChargeAnswer> {
      return ledger.charge(replica, key, signal);
    }

    @Post('wait/:key')
    @Idempotent({ lease: LEASE, onInFlight: { wait: IN_FLIGHT_WAIT } })
    @Retry(RETRY)
    @Timeout(ATTEMPT_TIMEOUT)
    wait(@Param('key') key: string, @TimeoutSignal() signal: AbortSignal): Promise<ChargeAnswer> {
      return ledger.charge(replica, key, signal);
    }
  }
  return ChargeController;
}

/** A replica: a Nest app listening on 127.0.0.1, and its base URL. */
export interface Replica {
  readonly name: string;
  readonly url: string;
  /** The state of its Redis client (ioredis `status`), for a failure's message; `memory` without Redis. */
  storeStatus(): string;
  close(): Promise<void>;
}

/**
 * Starts a replica on Express or Fastify, with its idempotency records in memory or in the Redis at `redisUrl`
 * (each replica its own `RedisStore` and client, as separate processes would have).
 */
export async function startReplica(
  name: string,
  platform: 'express' | 'fastify',
  redisUrl: string | undefined,
): Promise<Replica> {
  const store =
    redisUrl === undefined
      ? undefined
      : new RedisStore({
          url: redisUrl,
          commandTimeout: COMMAND_TIMEOUT,
          // Reconnect quickly after a kill: the schedules are short.
          redisOptions: { retryStrategy: () => 20 },
        });
  @Module({
    imports: [ResilienceModule.forRoot(store === undefined ? {} : { store })],
    controllers: [chargeController(name)],
  })
  class ReplicaModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ReplicaModule] }).compile();
  const app: INestApplication = moduleRef.createNestApplication(
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger: false },
  );
  app.useGlobalInterceptors(new OuterTimeoutInterceptor());
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    storeStatus: () => store?.redis.status ?? 'memory',
    close: () => app.close(),
  };
}
