import { Module, type DynamicModule } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, Field, GraphQLModule, Mutation, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  Fallback,
  Hedge,
  RateLimit,
  ResilienceConfigError,
  ResilienceModule,
  Retry,
  Timeout,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../e2e/http-harness.js';
import { Downstream } from './downstream.js';

const downstream = new Downstream();

@ObjectType()
class Quote {
  @Field()
  symbol!: string;
}

@Resolver(() => Quote)
class QuotesResolver {
  @Query(() => String)
  @Timeout(50)
  async slow(): Promise<string> {
    return downstream.call('slow');
  }

  @Query(() => String)
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async flaky(): Promise<string> {
    return downstream.call('flaky');
  }

  @Mutation(() => String)
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async placeOrder(@Args('symbol') symbol: string): Promise<string> {
    return downstream.call(symbol);
  }

  @Query(() => String)
  @CircuitBreaker({ consecutiveFailures: 2, openDuration: 60_000 })
  async guarded(): Promise<string> {
    return downstream.call('guarded');
  }

  @Query(() => String)
  @RateLimit({ limit: 2, interval: 60_000 })
  limited(): string {
    return 'allowed';
  }

  @Query(() => Quote)
  quote(): Quote {
    return { symbol: 'ACME' };
  }

  @ResolveField(() => String)
  @Fallback({ value: 'price unavailable' })
  async price(): Promise<string> {
    return downstream.call('price');
  }
}

function graphql(
  platform: 'express' | 'fastify',
  fieldResolverEnhancers: ('interceptors' | 'guards')[],
): DynamicModule {
  return GraphQLModule.forRoot<ApolloDriverConfig>({
    driver: ApolloDriver,
    autoSchemaFile: true,
    fieldResolverEnhancers,
    // The client address for per-IP limits comes from the request in the GraphQL context.
    context: platform === 'express' ? ({ req }: { req: unknown }) => ({ req }) : (req: unknown) => ({ req }),
  });
}

async function boot(platform: 'express' | 'fastify'): Promise<TestApp> {
  @Module({
    imports: [ResilienceModule.forRoot(), graphql(platform, ['interceptors', 'guards'])],
    providers: [QuotesResolver],
  })
  class AppModule {}
  return createTestApp(platform, AppModule);
}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

let testApp: TestApp | undefined;

afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
  Object.assign(downstream, { calls: 0, failures: 0, down: false, hanging: false });
});

async function ask(query: string): Promise<GraphQLAnswer> {
  const answer = await testApp!.send('POST', '/graphql', { query });
  return answer.body as GraphQLAnswer;
}

describe.each(PLATFORMS)('GraphQL with the Apollo driver on %s', (platform) => {
  it('@Timeout on a query: the error carries extensions.code TIMEOUT', async () => {
    testApp = await boot(platform);
    downstream.hanging = true;
    const { errors } = await ask('{ slow }');
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'TIMEOUT', policy: 'QuotesResolver.slow' });
  });

  it('@Retry on a query: answered by the third attempt', async () => {
    testApp = await boot(platform);
    downstream.failures = 2;
    expect(await ask('{ flaky }')).toEqual({ data: { flaky: 'flaky #3' } });
  });

  it('@Retry on a mutation: not repeated (a mutation is not idempotent unless retryNonIdempotent is set)', async () => {
    testApp = await boot(platform);
    downstream.failures = 2;
    const { errors } = await ask('mutation { placeOrder(symbol: "ACME") }');
    expect(errors?.[0]?.message).toBe('transient failure');
    expect(downstream.calls).toBe(1);
  });

  it('@CircuitBreaker: after two failures BROKEN_CIRCUIT with retryAfter; the downstream is not called', async () => {
    testApp = await boot(platform);
    downstream.down = true;
    await ask('{ guarded }');
    await ask('{ guarded }');
    const { errors } = await ask('{ guarded }');
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BROKEN_CIRCUIT', retryAfter: 60 });
    expect(downstream.calls).toBe(2);
  });

  it('@RateLimit on a query: the third request of a limit of 2 gets RATE_LIMIT_EXCEEDED', async () => {
    testApp = await boot(platform);
    expect(await ask('{ limited }')).toEqual({ data: { limited: 'allowed' } });
    expect(await ask('{ limited }')).toEqual({ data: { limited: 'allowed' } });
    const { errors } = await ask('{ limited }');
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', policy: 'QuotesResolver.limited' });
  });

  it('@Fallback on a field resolver (fieldResolverEnhancers set): the field gets the fallback value', async () => {
    testApp = await boot(platform);
    downstream.down = true;
    expect(await ask('{ quote { symbol price } }')).toEqual({
      data: { quote: { symbol: 'ACME', price: 'price unavailable' } },
    });
  });
});

describe('GraphQL field resolvers without fieldResolverEnhancers', () => {
  it('fail at bootstrap instead of silently running without their policies', async () => {
    @Module({ imports: [ResilienceModule.forRoot(), graphql('express', [])], providers: [QuotesResolver] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(
      'QuotesResolver.price is a GraphQL field resolver with resilience decorators, but Nest applies interceptors ' +
        "to field resolvers only when told to: add fieldResolverEnhancers: ['interceptors', 'guards']",
    );
    await app.close();
  });
});

/** Mutation attempts that ran; the first of each request hangs until the test ends. */
const orders = { attempts: 0, release: [] as (() => void)[] };

@Resolver()
class OrdersResolver {
  @Query(() => String)
  health(): string {
    return 'ok';
  }

  @Mutation(() => String)
  @Hedge({ delay: 20 })
  placeOrder(): string {
    return 'placed';
  }
}

@Resolver()
class ExplicitOrdersResolver {
  @Query(() => String)
  @Hedge({ delay: 20 })
  async order(): Promise<string> {
    return 'read';
  }

  @Mutation(() => String)
  @Hedge({ delay: 20, hedgeNonIdempotent: true })
  async placeOrder(): Promise<string> {
    const attempt = ++orders.attempts;
    if (attempt === 1) await new Promise<void>((resolve) => orders.release.push(resolve));
    return `placed by attempt ${attempt}`;
  }
}

describe('@Hedge on GraphQL mutations', () => {
  afterEach(() => {
    for (const release of orders.release.splice(0)) release();
    orders.attempts = 0;
  });

  it('is refused at bootstrap: a mutation is not idempotent', async () => {
    @Module({ imports: [ResilienceModule.forRoot(), graphql('express', [])], providers: [OrdersResolver] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = await app.init().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /hedge option "hedgeNonIdempotent" = undefined for policy "OrdersResolver.placeOrder".*hedge a GraphQL mutation/,
    );
    await app.close();
  });

  it.each(PLATFORMS)('runs on %s when hedgeNonIdempotent says so, and queries need nothing', async (platform) => {
    @Module({
      imports: [ResilienceModule.forRoot(), graphql(platform, [])],
      providers: [ExplicitOrdersResolver],
    })
    class AppModule {}
    testApp = await createTestApp(platform, AppModule);
    expect(await ask('{ order }')).toEqual({ data: { order: 'read' } });
    expect(await ask('mutation { placeOrder }')).toEqual({ data: { placeOrder: 'placed by attempt 2' } });
    expect(orders.attempts).toBe(2); // what the option allows: the mutation ran twice
  });
});
