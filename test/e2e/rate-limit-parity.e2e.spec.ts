import { request as httpRequest } from 'node:http';
import { Controller, Get, Module, type ExecutionContext, type INestApplication, type Type } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimit, ResilienceModule, SkipRateLimit } from '../../lib/index.js';
import { ResilienceTestKit } from '../../lib/testing/index.js';
import { PLATFORMS, type Platform } from './http-harness.js';

/** The proxy the apps trust: loopback, where the tests' requests come from unless they pick another address. */
const PROXY = '127.0.0.1';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { message?: string; policy?: string; code?: string };
}

/** A real app listening on 127.0.0.1 (trusting the proxy's address, as the docs advise), and a client for it. */
async function listen(platform: Platform, rootModule: Type) {
  const moduleRef = await Test.createTestingModule({ imports: [rootModule] }).compile();
  let app: INestApplication;
  if (platform === 'express') {
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: false });
    express.set('trust proxy', PROXY);
    app = express;
  } else {
    app = moduleRef.createNestApplication(new FastifyAdapter({ trustProxy: PROXY }), { logger: false });
  }
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): { port: number } }).address();
  /** GET `path` from `localAddress` (another loopback address is another client, not the proxy). */
  const get = (path: string, headers: Record<string, string> = {}, localAddress = PROXY) =>
    new Promise<Answer>((resolve, reject) => {
      const sent = httpRequest({ host: '127.0.0.1', port, path, headers, localAddress, agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: JSON.parse(text) as Answer['body'],
          }),
        );
      });
      sent.on('error', reject);
      sent.end();
    });
  return { app, get };
}

// ---------------------------------------------------------------------------------------------------------------
// @nestjs/throttler's multi-throttler scenario (test/multi in its repository): one route under three limits.

@Controller()
class MultiController {
  @Get()
  @RateLimit('short')
  @RateLimit('default')
  @RateLimit('long')
  index() {
    return { ok: true };
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      rateLimits: {
        short: { limit: 1, interval: 1000 },
        default: { limit: 2, interval: 5000 },
        // throttler's third limit is 5 per minute in fixed windows; a token bucket of 5 per minute refills 1.2
        // tokens in the scenario's 14 s, so the window here is 10 minutes: 5 at most in the scenario, as there.
        long: { limit: 5, interval: 600_000 },
      },
    }),
  ],
  controllers: [MultiController],
})
class MultiModule {}

describe.each(PLATFORMS)("@nestjs/throttler's scenario: 1/s, 2/5 s and 5/window on one route (%s)", (platform) => {
  let app: INestApplication | undefined;
  beforeEach(() => {
    // Only the clock the buckets read: the sockets keep their real timers.
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.useRealTimers();
  });

  it("gives throttler's eight outcomes: a refused request spends no token of the other limits", async () => {
    const server = await listen(platform, MultiModule);
    app = server.app;
    const wait = (ms: number) => vi.setSystemTime(Date.now() + ms);
    const outcomes: [number, string | undefined][] = [];
    const record = async () => {
      const answer = await server.get('/');
      outcomes.push([answer.status, answer.body.policy]);
      return answer;
    };

    expect((await record()).headers['ratelimit-remaining']).toBe('0'); // t = 0: short is spent
    const refused = await record(); // t = 0: refused by short
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    wait(1000);
    // t = 1 s: admitted. Had the refused request spent a token of "default", this one would be refused.
    await record();
    wait(1000);
    await record(); // t = 2 s: refused by default (2 per 5 s)
    wait(5000);
    await record(); // t = 7 s
    wait(1000);
    await record(); // t = 8 s
    wait(5000);
    const fifth = await record(); // t = 13 s: the fifth admitted request, long is spent
    expect(fifth.headers['ratelimit-remaining']).toBe('0');
    wait(1000);
    await record(); // t = 14 s: refused by long

    expect(outcomes).toEqual([
      [200, undefined],
      [429, 'short'],
      [200, undefined],
      [429, 'default'],
      [200, undefined],
      [200, undefined],
      [200, undefined],
      [429, 'long'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Client addresses: IPv4-mapped IPv6 in either form, and the IPv6 prefix option.

@Controller('addr')
class AddressController {
  @Get()
  @RateLimit({ limit: 2, interval: 60_000 })
  byDefault() {
    return { ok: true };
  }

  @Get('wide')
  @RateLimit({ limit: 1, interval: 60_000, ipv6Prefix: 48 })
  wide() {
    return { ok: true };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [AddressController] })
class AddressModule {}

describe.each(PLATFORMS)('client addresses (%s, behind a trusted proxy)', (platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('counts ::ffff:cb00:7107, ::ffff:203.0.113.7 and 203.0.113.7 as one client', async () => {
    const server = await listen(platform, AddressModule);
    app = server.app;
    const from = (address: string) => server.get('/addr', { 'x-forwarded-for': address });
    expect((await from('::ffff:cb00:7107')).status).toBe(200);
    expect((await from('::ffff:203.0.113.7')).status).toBe(200);
    expect((await from('203.0.113.7')).status).toBe(429);
    expect((await from('0:0:0:0:0:ffff:cb00:7107')).status).toBe(429);
    expect((await from('203.0.113.8')).status).toBe(200); // another client
  });

  it('groups IPv6 clients by /64 by default, and by the ipv6Prefix a limit gives', async () => {
    const server = await listen(platform, AddressModule);
    app = server.app;
    const from = (path: string, address: string) => server.get(path, { 'x-forwarded-for': address });
    expect((await from('/addr', '2001:db8:1:2::1')).status).toBe(200);
    expect((await from('/addr', '2001:db8:1:2:ffff::9')).status).toBe(200);
    expect((await from('/addr', '2001:db8:1:2::77')).status).toBe(429); // same /64
    expect((await from('/addr', '2001:db8:1:3::1')).status).toBe(200); // another /64
    // ipv6Prefix: 48: another /64 of the same /48 is the same client.
    expect((await from('/addr/wide', '2001:db8:1:2::1')).status).toBe(200);
    expect((await from('/addr/wide', '2001:db8:1:ff::1')).status).toBe(429);
    expect((await from('/addr/wide', '2001:db8:2::1')).status).toBe(200);
  });

  it('ignores a forged X-Forwarded-For from a client that reaches the app directly', async () => {
    const server = await listen(platform, AddressModule);
    app = server.app;
    // 127.0.0.2 is not the trusted proxy: its X-Forwarded-For is not believed, each forged value is the same client.
    const statuses: number[] = [];
    for (let index = 0; index < 4; index++) {
      statuses.push((await server.get('/addr', { 'x-forwarded-for': `10.9.9.${index}` }, '127.0.0.2')).status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// What throttler's users rely on: global limits, skipIf, skipping one limit, blockDuration, per-request limits,
// the refusal's message; and the testing kit's exhaustRateLimit with the default per-IP key.

interface Req {
  headers: Record<string, string | string[] | undefined>;
}
const header = (context: ExecutionContext, name: string) =>
  context.switchToHttp().getRequest<Req>().headers[name] as string | undefined;

@Controller('api')
class ApiController {
  @Get('plain')
  plain() {
    return { ok: true };
  }

  @Get('no-burst')
  @SkipRateLimit('burst')
  noBurst() {
    return { ok: true };
  }

  @Get('exempt')
  @SkipRateLimit()
  exempt() {
    return { ok: true };
  }

  @Get('plan')
  @SkipRateLimit()
  @RateLimit({
    limit: (context: ExecutionContext) => (header(context, 'x-plan') === 'pro' ? 3 : 1),
    interval: 60_000,
    key: (context: ExecutionContext) => header(context, 'x-user') ?? 'anonymous',
    message: (context: ExecutionContext) => `Plan limit reached for ${header(context, 'x-user')}`,
  })
  plan() {
    return { ok: true };
  }

  @Get('login')
  @SkipRateLimit()
  @RateLimit({
    limit: 2,
    interval: 1000,
    blockDuration: 60_000,
    message: 'Too many attempts',
    skipIf: (context: ExecutionContext) => header(context, 'x-internal') === 'yes',
  })
  login() {
    return { ok: true };
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      rateLimits: { burst: { limit: 2, interval: 60_000 }, sustained: { limit: 4, interval: 60_000 } },
      globalRateLimits: ['burst', 'sustained'],
    }),
  ],
  controllers: [ApiController],
})
class ApiModule {}

describe.each(PLATFORMS)('rate-limit options throttler users rely on (%s)', (platform) => {
  let app: INestApplication | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.useRealTimers();
  });

  async function start() {
    const server = await listen(platform, ApiModule);
    app = server.app;
    return server;
  }

  it('applies globalRateLimits to a route without decorators', async () => {
    const { get } = await start();
    const statuses = [(await get('/api/plain')).status, (await get('/api/plain')).status];
    const refused = await get('/api/plain');
    expect([...statuses, refused.status]).toEqual([200, 200, 429]);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', policy: 'burst' });
  });

  it("@SkipRateLimit('burst') leaves the other global limit, and the skipped one spends nothing", async () => {
    const { get } = await start();
    const statuses: number[] = [];
    for (let index = 0; index < 5; index++) statuses.push((await get('/api/no-burst')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]); // sustained: 4
    const refused = await get('/api/no-burst');
    expect(refused.body.policy).toBe('sustained');
  });

  it('@SkipRateLimit() exempts a route from every global limit', async () => {
    const { get } = await start();
    for (let index = 0; index < 6; index++) expect((await get('/api/exempt')).status).toBe(200);
  });

  it('computes the limit from the request, and answers with the message computed from it', async () => {
    const { get } = await start();
    const free = { 'x-user': 'ann' };
    const pro = { 'x-user': 'bob', 'x-plan': 'pro' };
    expect((await get('/api/plan', free)).status).toBe(200);
    const refused = await get('/api/plan', free);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toBe('Plan limit reached for ann');
    expect(refused.headers['ratelimit-limit']).toBe('1');
    const proStatuses: number[] = [];
    for (let index = 0; index < 4; index++) proStatuses.push((await get('/api/plan', pro)).status);
    expect(proStatuses).toEqual([200, 200, 200, 429]);
  });

  it('keeps a client that exceeded the limit blocked for blockDuration, then admits it, bucket full', async () => {
    const { get } = await start();
    expect((await get('/api/login')).status).toBe(200);
    expect((await get('/api/login')).status).toBe(200);
    const refused = await get('/api/login');
    expect(refused.status).toBe(429);
    expect(refused.body.message).toBe('Too many attempts');
    expect(refused.headers['retry-after']).toBe('60');
    vi.setSystemTime(Date.now() + 30_000); // the bucket refilled long ago, but the block holds
    expect((await get('/api/login')).status).toBe(429);
    vi.setSystemTime(Date.now() + 30_000);
    expect((await get('/api/login')).status).toBe(200);
    expect((await get('/api/login')).status).toBe(200);
  });

  it('skipIf lets a request through without spending', async () => {
    const { get } = await start();
    for (let index = 0; index < 4; index++) {
      expect((await get('/api/login', { 'x-internal': 'yes' })).status).toBe(200);
    }
    expect((await get('/api/login')).status).toBe(200);
    expect((await get('/api/login')).status).toBe(200);
    expect((await get('/api/login')).status).toBe(429);
  });

  it('exhaustRateLimit(name) refuses the test client (default per-IP key); resetRateLimit(name) ends it', async () => {
    const { app: started, get } = await start();
    const kit = ResilienceTestKit.from(started);
    await kit.exhaustRateLimit('burst');
    const refused = await get('/api/plain');
    expect(refused.status).toBe(429);
    expect(refused.body.policy).toBe('burst');
    await kit.resetRateLimit('burst');
    expect((await get('/api/plain')).status).toBe(200);
  });

  it('exhaustRateLimit(name, address) spends the bucket of that client, in any address form', async () => {
    const { app: started, get } = await start();
    const kit = ResilienceTestKit.from(started);
    await kit.exhaustRateLimit('burst', '::ffff:203.0.113.7');
    expect((await get('/api/plain', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    expect((await get('/api/plain', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Bootstrap checks of the new options.

describe('the new rate-limit options fail at bootstrap when misused', () => {
  async function boot(rootModule: Type) {
    const moduleRef = await Test.createTestingModule({ imports: [rootModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } finally {
      await app.close();
    }
  }

  it('refuses a globalRateLimits name that is not a rateLimits configuration, with did-you-mean', async () => {
    @Module({
      imports: [ResilienceModule.forRoot({ rateLimits: { burst: { limit: 2 } }, globalRateLimits: ['brust'] })],
    })
    class Typo {}
    await expect(boot(Typo)).rejects.toThrow(/"globalRateLimits" names "brust".*Did you mean "burst"/);
  });

  it("refuses @SkipRateLimit('name') for a limit that does not exist", async () => {
    @Controller()
    class SkipTypo {
      @Get()
      @SkipRateLimit('brust')
      index() {
        return {};
      }
    }
    @Module({
      imports: [ResilienceModule.forRoot({ rateLimits: { burst: { limit: 2 } } })],
      controllers: [SkipTypo],
    })
    class SkipTypoModule {}
    await expect(boot(SkipTypoModule)).rejects.toThrow(/@SkipRateLimit\('brust'\) on SkipTypo.index.*'burst'/);
  });

  it('refuses options computed from the request on a provider method (no request there)', async () => {
    class Client {
      @RateLimit({ limit: 5, skipIf: () => true })
      async call() {
        return 1;
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Client] })
    class ProviderModule {}
    await expect(boot(ProviderModule)).rejects.toThrow(/"skipIf" .*applies to handlers only/);
  });
});
