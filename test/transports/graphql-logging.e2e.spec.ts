import { Module, type LoggerService } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  LoadShedderState,
  RateLimit,
  ResilienceModule,
  ResilienceRegistry,
  Timeout,
  type LoadSample,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../e2e/http-harness.js';

// A policy refusal is an answer, not a bug: on HTTP Nest logs nothing for it (an HttpException); over GraphQL it must
// not reach Nest's log as an error with a stack trace either. Apollo itself logs no resolver error.

const HEALTHY: LoadSample = { eventLoopDelay: 0, eventLoopUtilization: 0.2, heapUsed: 0.3 };
const load = { now: HEALTHY };

@Resolver()
class RefusingResolver {
  @Query(() => String)
  @Timeout(20)
  slow(): Promise<string> {
    return new Promise((resolve) => setTimeout(() => resolve('late'), 2_000).unref());
  }

  @Query(() => String)
  @RateLimit({ limit: 1, interval: 60_000, key: 'global' })
  limited(): string {
    return 'allowed';
  }

  @Query(() => String)
  @CircuitBreaker('inventory')
  guarded(): string {
    return 'closed';
  }

  @Query(() => String)
  @Bulkhead('reports')
  report(): string {
    return 'report';
  }

  @Query(() => String)
  plain(): string {
    return 'served';
  }

  @Query(() => String)
  broken(): string {
    throw new Error('a bug in the resolver');
  }
}

/** Every line Nest logs, by level. */
class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: unknown; rest: unknown[] }[] = [];
  log = (message: unknown, ...rest: unknown[]) => this.lines.push({ level: 'log', message, rest });
  error = (message: unknown, ...rest: unknown[]) => this.lines.push({ level: 'error', message, rest });
  warn = (message: unknown, ...rest: unknown[]) => this.lines.push({ level: 'warn', message, rest });
  debug = (message: unknown, ...rest: unknown[]) => this.lines.push({ level: 'debug', message, rest });
  verbose = (message: unknown, ...rest: unknown[]) => this.lines.push({ level: 'verbose', message, rest });

  get errors() {
    return this.lines.filter((line) => line.level === 'error');
  }
}

let testApp: TestApp | undefined;
afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
  load.now = HEALTHY;
});

describe.each(PLATFORMS)('GraphQL policy refusals in the log, on %s', (platform) => {
  async function boot(logger: CapturingLogger) {
    @Module({
      imports: [
        ResilienceModule.forRoot({
          circuitBreakers: { inventory: { consecutiveFailures: 5 } },
          bulkheads: { reports: { maxConcurrent: 1, maxQueue: 0 } },
          loadShedding: { sampler: { sample: () => load.now }, eventLoopDelay: { soft: 50, hard: 150 } },
        }),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [RefusingResolver],
    })
    class AppModule {}
    testApp = await createTestApp(platform, AppModule, (app) => app.useLogger(logger));
  }

  async function codeOf(query: string): Promise<unknown> {
    const answer = (await testApp!.send('POST', '/graphql', { query })).body as {
      errors?: { extensions?: { code?: unknown } }[];
    };
    return answer.errors?.[0]?.extensions?.code;
  }

  it('logs no error for a timeout, a rate limit, an open circuit, a full bulkhead or a shed request', async () => {
    const logger = new CapturingLogger();
    await boot(logger);
    const registry = testApp!.app.get(ResilienceRegistry);
    expect(await codeOf('{ slow }')).toBe('TIMEOUT');
    expect(await codeOf('{ limited }')).toBeUndefined();
    expect(await codeOf('{ limited }')).toBe('RATE_LIMIT_EXCEEDED');
    registry.circuitBreakers.forceOpen('inventory');
    expect(await codeOf('{ guarded }')).toBe('BROKEN_CIRCUIT');
    registry.bulkheads.get('reports').occupy();
    expect(await codeOf('{ report }')).toBe('BULKHEAD_REJECTED');
    load.now = { ...HEALTHY, eventLoopDelay: 10_000 };
    for (let i = 0; i < 25; i++) testApp!.app.get(LoadShedderState).sample(); // the drop probability reaches 1
    expect(await codeOf('{ plain }')).toBe('LOAD_SHED');
    expect(logger.errors).toEqual([]);
  });

  it('still logs a resolver that throws its own error, with its stack (the logger does capture)', async () => {
    const logger = new CapturingLogger();
    await boot(logger);
    expect(await codeOf('{ broken }')).toBeDefined();
    expect(logger.errors).toHaveLength(1);
    const logged = logger.errors[0].message;
    expect(logged).toBeInstanceOf(Error);
    expect(String((logged as Error).stack)).toContain('a bug in the resolver');
  });
});
