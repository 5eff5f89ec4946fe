import { Controller, Get, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule } from '../../lib/index.js';

@Controller('quota')
class QuotaController {
  @Get()
  @RateLimit({ limit: 5, interval: 60_000 })
  quota() {
    return { ok: true };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [QuotaController] })
class AppModule {}

/** An adapter as a user might write one: it sees (here, records) every header Nest sets through it. */
class AuditingFastifyAdapter extends FastifyAdapter {
  readonly headersSet: string[] = [];

  override setHeader(response: never, name: string, value: string) {
    this.headersSet.push(name);
    return super.setHeader(response, name, value);
  }
}

describe('rate-limit headers on Fastify', () => {
  let app: NestFastifyApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function quotaThrough(adapter: FastifyAdapter) {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app.inject({ method: 'GET', url: '/quota' });
  }

  it("are set on Nest's FastifyAdapter's replies", async () => {
    const response = await quotaThrough(new FastifyAdapter());
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': '4' });
  });

  it('go through the setHeader of an adapter subclass that overrides it', async () => {
    const adapter = new AuditingFastifyAdapter();
    const response = await quotaThrough(adapter);
    expect(response.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': '4' });
    expect(adapter.headersSet).toEqual(expect.arrayContaining(['ratelimit-limit', 'ratelimit-remaining']));
  });
});
