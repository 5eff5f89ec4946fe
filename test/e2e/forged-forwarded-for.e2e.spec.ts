import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule } from '../../lib/index.js';

/** The documented setups: the app trusts its reverse proxy's address (here loopback), never `true`. */
const PROXY = '127.0.0.1';

@Controller('login')
class LoginController {
  @Get()
  @RateLimit({ limit: 2, interval: 60_000 }) // per client IP (the default key on controllers)
  login() {
    return { ok: true };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [LoginController] })
class AppModule {}

/** Six requests from one client, each with a different forged leftmost X-Forwarded-For, through the proxy. */
const forgedHeaders = Array.from({ length: 6 }, (_, i) => ({ 'x-forwarded-for': `10.9.9.${i}, 203.0.113.7` }));

describe('a forged X-Forwarded-For cannot bypass a per-IP @RateLimit', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** A Fastify app with `trustProxy`, and the statuses of the six forged requests arriving from `remoteAddress`. */
  async function fastifyWith(trustProxy: string | boolean, remoteAddress: string) {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const fastify = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy }), {
      logger: false,
    });
    app = await fastify.init();
    await fastify.getHttpAdapter().getInstance().ready();
    const statuses: number[] = [];
    for (const headers of forgedHeaders) {
      statuses.push((await fastify.inject({ method: 'GET', url: '/login', headers, remoteAddress })).statusCode);
    }
    return { fastify, statuses };
  }

  it("Express with app.set('trust proxy', '127.0.0.1'): the client is the proxy's rightmost entry", async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: false });
    express.set('trust proxy', PROXY);
    app = await express.init();
    const server = app.getHttpServer() as Parameters<typeof request>[0];
    const statuses: number[] = [];
    // supertest connects from 127.0.0.1: the trusted proxy, which appended the client's real address 203.0.113.7.
    for (const headers of forgedHeaders) statuses.push((await request(server).get('/login').set(headers)).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
    // Another real client (another rightmost entry) has its own bucket.
    expect((await request(server).get('/login').set('x-forwarded-for', '198.51.100.1')).status).toBe(200);
  });

  it("Fastify with trustProxy: '127.0.0.1': the client is the proxy's rightmost entry", async () => {
    const { fastify, statuses } = await fastifyWith(PROXY, PROXY);
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
    const other = await fastify.inject({
      method: 'GET',
      url: '/login',
      headers: { 'x-forwarded-for': '198.51.100.1' },
      remoteAddress: PROXY,
    });
    expect(other.statusCode).toBe(200);
  });

  it('Fastify: a client reaching the app directly (not through the proxy) is limited by its own address', async () => {
    const { statuses } = await fastifyWith(PROXY, '192.0.2.50');
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
  });

  it('the setup the README used to show (trustProxy: true) is bypassable: why it is not recommended', async () => {
    const { statuses } = await fastifyWith(true, PROXY);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
